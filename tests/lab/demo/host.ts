/**
 * `npm run demo`: installs the Debian packages the lab needs when some are missing (as root; the same path as
 * `npm test`, tests/lab/vm/packages.ts), builds lbctl, and runs the narrated demo (guest.ts) inside one guest boot.
 */

import { join } from "node:path";
import { labAvailability, runInLab } from "../launch.ts";
import { LAB_EXIT } from "../vm/errors.ts";
import { ensureHostPackages } from "../vm/packages.ts";

const root = join(import.meta.dir, "../../..");
const inCi = process.env.CI === "true" || process.env.CI === "1";

function step(command: string[]): void {
  const result = Bun.spawnSync(command, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
}

console.log("Checking the Debian packages the lab needs (tests/lab/packages.txt) ...");
const packages = ensureHostPackages({ inCi });
// A package the demo does not use (shellcheck, say) may be missing outside CI: the demo only needs the lab.
if (!packages.ok && inCi) process.exit(1);
const availability = labAvailability();
if (!availability.ok) {
  console.error(`The demo cannot run: ${availability.reason}`);
  process.exit(LAB_EXIT.unavailable);
}
console.log("Building lbctl ...");
step([process.execPath, join(root, "build.ts")]);
console.log("Booting the lab guest (qemu, software emulation: a few seconds) ...");
const code = await runInLab([process.execPath, join(root, "tests/lab/demo/guest.ts")], { env: { LBCTL_BIN: join(root, "build/lbctl") } });
process.exit(code);
