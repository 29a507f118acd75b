/**
 * B0: start-to-exit of `build/lbctl validate --quiet` on the shipped example config, the cron use case, beside
 * /bin/true (the floor of starting any process; ipvsadm cannot run on a host without IPVS). Target: ≤ 50 ms median.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadLine, medianOf, report, row, startLoadMeter } from "./support.ts";

const root = join(import.meta.dir, "..");
const binary = join(root, "build/lbctl");
if (!existsSync(binary)) throw new Error("build/lbctl is missing: run npm run build first");

const runs = Number(process.env.BENCH_RUNS ?? 50);
const config = join(root, "dist/config.yaml.example");
const meter = startLoadMeter();
const lbctl = medianOf(runs, [binary, "validate", "--quiet", "--config", config]);
const floor = medianOf(runs, ["/bin/true"]);
const version = medianOf(runs, [binary, "--version"]);
const { othersPct, loaded } = meter();

console.log(`validate (host, ${runs} runs each)`);
console.log(row("lbctl validate --quiet (example config)", `${lbctl.toFixed(1)} ms median`, "≤ 50 ms", lbctl <= 50));
console.log(row("lbctl --version (runtime start-up)", `${version.toFixed(1)} ms median`, "-", true));
console.log(row("/bin/true (process floor)", `${floor.toFixed(2)} ms median`, "-", true));
console.log(row("ratio validate / true", `${(lbctl / floor).toFixed(1)}x`, "-", true));
console.log(loadLine(othersPct));

const common = { id: "B0", what: "`lbctl validate --quiet` on the shipped example config, start to exit", where: "host" as const, bench: "validate", unit: "ms", loaded };
report({ ...common, name: `median of ${runs} runs`, target: "≤ 50 ms median", measured: `${lbctl.toFixed(0)} ms`, value: lbctl, ok: lbctl <= 50 });
report({ ...common, name: "peer: /bin/true, the floor of starting any process", measured: `${floor.toFixed(1)} ms`, value: floor, ok: true });
report({ ...common, name: "`lbctl --version`, the runtime's start-up", measured: `${version.toFixed(0)} ms`, value: version, ok: true });
