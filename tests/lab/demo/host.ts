/**
 * `npm run demo`: prepares the kernel lab if needed (Debian packages, as root), builds lbctl, and runs the narrated
 * demo (guest.ts) inside one guest boot.
 */

import { join } from "node:path";
import { labAvailability, runInLab } from "../launch.ts";

const root = join(import.meta.dir, "../../..");

function step(command: string[]): void {
  const result = Bun.spawnSync(command, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
}

if (!labAvailability().ok) {
  if (process.getuid?.() !== 0) {
    console.error(`The demo boots a VM with a real IPVS kernel and needs root: ${labAvailability().ok ? "" : (labAvailability() as { reason: string }).reason}`);
    process.exit(2);
  }
  console.log("Installing the kernel lab's Debian packages (tests/lab/setup.sh) ...");
  step(["bash", join(root, "tests/lab/setup.sh")]);
}
console.log("Building lbctl ...");
step([process.execPath, join(root, "build.ts")]);
console.log("Booting the lab guest (qemu, software emulation: a few seconds) ...");
const code = await runInLab([process.execPath, join(root, "tests/lab/demo/guest.ts")], { env: { LBCTL_BIN: join(root, "build/lbctl") } });
process.exit(code);
