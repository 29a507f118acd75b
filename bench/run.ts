/**
 * `npm run bench`: every benchmark, out of CI. Host benchmarks run here; the kernel ones (P1, P2, P3) run in one
 * kernel-lab guest boot. Each prints measured figures beside its target and, where there is one, a peer measured in
 * the same run. docs/performance.md records the figures.
 */

import { join } from "node:path";
import { labAvailability, runInLab } from "../tests/lab/launch.ts";

const root = join(import.meta.dir, "..");
const bun = process.execPath;
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

function host(name: string, script: string, args: string[] = []): number {
  if (!wanted(name)) return 0;
  console.log(`\n=== ${name} (host) ===`);
  return Bun.spawnSync([bun, join(root, "bench", script), ...args], { cwd: root, stdout: "inherit", stderr: "inherit" }).exitCode ?? 1;
}

let failures = 0;
failures += Bun.spawnSync([bun, join(root, "build.ts")], { cwd: root, stdout: "ignore", stderr: "inherit" }).exitCode ?? 1;
failures += host("validate", "validate.ts");
failures += host("ipvs-encode", "ipvs-encode.ts");
failures += host("metrics-scrape", "metrics-scrape.ts");
failures += host("health-scheduler", "health-scheduler.ts");
failures += host("udp-echo", "udp-echo.ts");
failures += host("port-range", "port-range.ts");

const labBenches = ["ipvs-apply", "failover-latency"].filter(wanted);
if (labBenches.length > 0) {
  console.log(`\n=== ${labBenches.join(", ")} (kernel lab guest) ===`);
  const lab = labAvailability();
  if (!lab.ok) {
    console.error(`Skipped: the kernel lab cannot run here: ${lab.reason}`);
    failures++;
  } else {
    const script = labBenches.map((name) => `${bun} ${join(root, "bench", `${name}.ts`)}`).join(" && ");
    failures += await runInLab(["sh", "-c", script], { env: { LBCTL_BIN: join(root, "build/lbctl") }, timeoutSeconds: 3600 });
  }
}
process.exit(failures === 0 ? 0 : 1);
