/**
 * P1 and P2, in the kernel lab guest (real IPVS; emulated, so only ratios measured in the same run mean anything):
 *   P1: program 5,000 virtual services × 4 destinations into an empty table: `lbctl apply` / `ipvsadm -R` of the
 *       same rules. Target ≤ 0.5.
 *   P2: `lbctl apply` with nothing to change at that size / one `ipvsadm -Sn`. Target ≤ 1.5.
 * Run: npm run bench (or bun tests/lab/launch.ts -- bun bench/ipvs-apply.ts).
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { median, report, row } from "./support.ts";

const root = join(import.meta.dir, "..");
const binary = process.env.LBCTL_BIN ?? join(root, "build/lbctl");
if (!existsSync("/proc/net/ip_vs")) throw new Error("No IPVS here: run this inside the kernel lab (npm run bench does)");
if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build first`);

const SERVICES = 100;
const PORTS_PER_SERVICE = 50;
const BACKENDS = 4;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const VIP = "10.220.0.1";

const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-"));
const services = Array.from({ length: SERVICES }, (_, s) => ({
  name: `svc${s}`,
  ports: [`${10000 + s * PORTS_PER_SERVICE}-${10000 + s * PORTS_PER_SERVICE + PORTS_PER_SERVICE - 1}`],
  scheduler: "wlc",
  backends: Array.from({ length: BACKENDS }, (_, b) => ({ address: `10.${30 + b}.${s >> 8}.${(s & 255) + 1}`, weight: 1 + b })),
}));
const config = join(dir, "config.yaml");
await Bun.write(
  config,
  stringify({
    node: { name: "bench" },
    network: { frontend: { vip: VIP } },
    system: { state_dir: join(dir, "state") },
    daemon: { socket: join(dir, "lbctl.sock") },
  }),
);
await Bun.write(join(dir, "config.d/services.yaml"), stringify({ services }));

const rules: string[] = [];
for (const [s, service] of services.entries()) {
  for (let p = 0; p < PORTS_PER_SERVICE; p++) {
    const port = 10000 + s * PORTS_PER_SERVICE + p;
    rules.push(`-A -t ${VIP}:${port} -s wlc`);
    for (const backend of service.backends) rules.push(`-a -t ${VIP}:${port} -r ${backend.address}:${port} -m -w ${backend.weight}`);
  }
}
const restoreFile = join(dir, "rules.txt");
await Bun.write(restoreFile, `${rules.join("\n")}\n`);

function timed(command: string[], stdin?: string): number {
  const started = Bun.nanoseconds();
  const result = Bun.spawnSync(command, { stdin: stdin ? Bun.file(stdin) : "ignore", stdout: "ignore", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - started) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr.toString()}`);
  return ms;
}

function table(): string {
  const lines = Bun.spawnSync(["ipvsadm", "-Sn"]).stdout.toString().trim().split("\n");
  return lines.sort().join("\n");
}

const clear = () => timed(["ipvsadm", "-C"]);
const lbctlApply = () => timed([binary, "apply", "--force", "--config", config]);

try {
  const ipvsadmTimes: number[] = [];
  const lbctlTimes: number[] = [];
  const noopTimes: number[] = [];
  const saveTimes: number[] = [];
  let expected = "";
  for (let run = 0; run < RUNS; run++) {
    clear();
    ipvsadmTimes.push(timed(["ipvsadm", "-R"], restoreFile));
    expected = table();
    clear();
    lbctlTimes.push(lbctlApply());
    if (table() !== expected) throw new Error("lbctl apply and ipvsadm -R produced different tables");
    noopTimes.push(lbctlApply());
    saveTimes.push(timed(["ipvsadm", "-Sn"]));
  }
  clear();
  const p1 = median(lbctlTimes) / median(ipvsadmTimes);
  const p2 = median(noopTimes) / median(saveTimes);
  const size = `${SERVICES * PORTS_PER_SERVICE} virtual services × ${BACKENDS}`;
  console.log(`ipvs apply (kernel lab guest, ${size}, median of ${RUNS})`);
  console.log(row("P1 lbctl apply, empty table", `${median(lbctlTimes).toFixed(0)} ms`, "-", true));
  console.log(row("P1 ipvsadm -R, same rules", `${median(ipvsadmTimes).toFixed(0)} ms`, "-", true));
  console.log(row("P1 ratio lbctl / ipvsadm -R", p1.toFixed(2), "≤ 0.5", p1 <= 0.5));
  console.log(row("P2 lbctl apply, nothing to change", `${median(noopTimes).toFixed(0)} ms`, "-", true));
  console.log(row("P2 ipvsadm -Sn", `${median(saveTimes).toFixed(0)} ms`, "-", true));
  console.log(row("P2 ratio lbctl / ipvsadm -Sn", p2.toFixed(2), "≤ 1.5", p2 <= 1.5));
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const common = { where: "guest" as const, bench: "ipvs-apply", unit: "ratio" };
  const shape = `${SERVICES} services × ${PORTS_PER_SERVICE}-port ranges × ${BACKENDS} backends (${size}), median of ${RUNS}`;
  report({ ...common, id: "P1", what: `program an empty table, ${shape}`, name: "`lbctl apply` / `ipvsadm -R` of the same rules", target: "≤ 0.5", measured: `${p1.toFixed(2)} (${s(median(lbctlTimes))} / ${s(median(ipvsadmTimes))})`, value: p1, ok: p1 <= 0.5 });
  report({ ...common, id: "P2", what: `apply with nothing to change, ${shape}`, name: "`lbctl apply` / one `ipvsadm -Sn`", target: "≤ 1.5", measured: `${p2.toFixed(2)} (${s(median(noopTimes))} / ${s(median(saveTimes))})`, value: p2, ok: p2 <= 1.5 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
