/**
 * P1 and P2, in the kernel lab guest (real IPVS; emulated, so only ratios measured in the same run mean anything),
 * each at three shapes of 5,000 virtual services × 4 destinations:
 *   "100 × 50":   100 services, each a 50-port range;
 *   "1 × 5000":   one service with a 5,000-port range (SIP/RTP, game servers);
 *   "5000 × 1":   5,000 single-port services.
 *   P1: program an empty table: `lbctl apply` / `ipvsadm -R` of the same rules. Target ≤ 0.3.
 *   P2: `lbctl apply` with nothing to change / one `ipvsadm -Sn`. Target ≤ 1.1.
 * Each time is from exec to exit, as a user sees it. `apply --debug` tells where lbctl's time goes (start-up, config,
 * read, desired, plan, execute), reported beside each ratio; so is the start-up of the binary alone (`lbctl
 * --version`), read over the lab's 9p share and from a copy on the guest's tmpfs.
 * Each programming runs in a network namespace of its own (bench/namespace.ts says why), ipvsadm's and lbctl's
 * alike, both started through the same `nsenter`.
 *
 *   bun tests/lab/launch.ts -- bun bench/ipvs-apply.ts        (or npm run bench -- ipvs-apply)
 *   BENCH_RUNS=N (default 3) runs per shape; BENCH_SHAPES=1x5000,5000x1 picks shapes.
 */

import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { median, report, row } from "./support.ts";
import { type ApplyBreakdown, formatBreakdown, medianBreakdown, parseApplyDebug } from "./apply-debug.ts";
import { BenchNamespace } from "./namespace.ts";

const root = join(import.meta.dir, "..");
const binary = process.env.LBCTL_BIN ?? join(root, "build/lbctl");
if (!existsSync("/proc/net/ip_vs")) throw new Error("No IPVS here: run this inside the kernel lab (npm run bench does)");
if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build first`);

interface Shape {
  key: string;
  services: number;
  ports: number;
}

const SHAPES: Shape[] = [
  { key: "100x50", services: 100, ports: 50 },
  { key: "1x5000", services: 1, ports: 5000 },
  { key: "5000x1", services: 5000, ports: 1 },
];
const BACKENDS = 4;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const VIP = "10.220.0.1";
const P1_TARGET = 0.3;
const P2_TARGET = 1.1;
const chosen = process.env.BENCH_SHAPES?.split(",").map((key) => key.trim()) ?? SHAPES.map((s) => s.key);
for (const key of chosen) if (!SHAPES.some((s) => s.key === key)) throw new Error(`Unknown shape ${key}: ${SHAPES.map((s) => s.key).join(", ")}`);

const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-"));

interface Timed {
  ms: number;
  output: string;
}

function timed(command: string[], stdin?: string): Timed {
  const started = Bun.nanoseconds();
  const result = Bun.spawnSync(command, { stdin: stdin ? Bun.file(stdin) : "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - started) / 1e6;
  const output = `${result.stdout.toString()}${result.stderr.toString()}`;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${output.slice(-2000)}`);
  return { ms, output };
}

/** Writes the config and the equivalent `ipvsadm -R` rules of one shape; returns their paths. */
async function prepare(shape: Shape): Promise<{ config: string; rules: string }> {
  const shapeDir = join(dir, shape.key);
  const services = Array.from({ length: shape.services }, (_, s) => {
    const first = 10000 + s * shape.ports;
    return {
      name: `svc${s}`,
      ports: [shape.ports === 1 ? `${first}` : `${first}-${first + shape.ports - 1}`],
      scheduler: "wlc",
      backends: Array.from({ length: BACKENDS }, (_, b) => ({ address: `10.${30 + b}.${Math.floor(s / 250)}.${(s % 250) + 1}`, weight: 1 + b })),
    };
  });
  const config = join(shapeDir, "config.yaml");
  await Bun.write(
    config,
    stringify({
      node: { name: "bench" },
      network: { frontend: { vip: VIP } },
      system: { state_dir: join(shapeDir, "state") },
      daemon: { socket: join(shapeDir, "lbctl.sock") },
    }),
  );
  await Bun.write(join(shapeDir, "config.d/services.yaml"), stringify({ services }));
  const rules: string[] = [];
  for (const [s, service] of services.entries()) {
    for (let p = 0; p < shape.ports; p++) {
      const port = 10000 + s * shape.ports + p;
      rules.push(`-A -t ${VIP}:${port} -s wlc`);
      for (const backend of service.backends) rules.push(`-a -t ${VIP}:${port} -r ${backend.address}:${port} -m -w ${backend.weight}`);
    }
  }
  const restore = join(shapeDir, "rules.txt");
  await Bun.write(restore, `${rules.join("\n")}\n`);
  return { config, rules: restore };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const common = { where: "guest" as const, bench: "ipvs-apply", unit: "ratio" };

// The start-up of the binary alone, exec to exit, read over 9p from the host's disk and from the guest's tmpfs.
const localBinary = join(dir, "lbctl");
copyFileSync(binary, localBinary);
const startup = (path: string) => {
  timed([path, "--version"]); // page cache
  return median(Array.from({ length: Math.max(RUNS, 3) }, () => timed([path, "--version"]).ms));
};
const startupShared = startup(binary);
const startupLocal = startup(localBinary);
console.log(`ipvs apply (kernel lab guest, median of ${RUNS} per shape)`);
console.log(row("start-up, lbctl --version (9p share)", `${startupShared.toFixed(0)} ms`, "-", true));
console.log(row("start-up, lbctl --version (guest tmpfs)", `${startupLocal.toFixed(0)} ms`, "-", true));
report({ ...common, id: "P1", unit: "ms", what: "start-up of the binary in the guest", name: "`lbctl --version`, exec to exit, binary on the host's disk (9p) / on the guest's tmpfs", measured: `${startupShared.toFixed(0)} ms / ${startupLocal.toFixed(0)} ms`, value: startupShared, ok: true });

try {
  for (const shape of SHAPES.filter((sh) => chosen.includes(sh.key))) {
    const { config, rules } = await prepare(shape);
    const apply = (namespace: BenchNamespace) => {
      const run = timed(namespace.command([binary, "apply", "--force", "--debug", "--config", config]));
      return { ms: run.ms, breakdown: parseApplyDebug(run.output), unchanged: run.output.includes("nothing to do") };
    };
    const restoreTimes: number[] = [];
    const applyTimes: number[] = [];
    const noopTimes: number[] = [];
    const saveTimes: number[] = [];
    const applyBreakdowns: ApplyBreakdown[] = [];
    const noopBreakdowns: ApplyBreakdown[] = [];
    for (let run = 0; run < RUNS; run++) {
      const peer = BenchNamespace.create(`${shape.key}-ipvsadm`);
      let expected: string;
      try {
        restoreTimes.push(timed(peer.command(["ipvsadm", "-R"]), rules).ms);
        expected = peer.table();
      } finally {
        peer.close();
      }
      const own = BenchNamespace.create(`${shape.key}-lbctl`);
      try {
        const full = apply(own);
        applyTimes.push(full.ms);
        applyBreakdowns.push(full.breakdown);
        if (own.table() !== expected) throw new Error(`${shape.key}: lbctl apply and ipvsadm -R produced different tables`);
        const noop = apply(own);
        if (!noop.unchanged) throw new Error(`${shape.key}: the second apply changed something`);
        noopTimes.push(noop.ms);
        noopBreakdowns.push(noop.breakdown);
        saveTimes.push(timed(own.command(["ipvsadm", "-Sn"])).ms);
      } finally {
        own.close();
      }
    }
    const p1 = median(applyTimes) / median(restoreTimes);
    const p2 = median(noopTimes) / median(saveTimes);
    const size = `${shape.services * shape.ports} virtual services × ${BACKENDS}`;
    const label = `${shape.services} × ${shape.ports}-port × ${BACKENDS}`;
    const p1Parts = medianBreakdown(applyBreakdowns, median(applyTimes));
    const p2Parts = medianBreakdown(noopBreakdowns, median(noopTimes));
    console.log(`\n${label} (${size})`);
    console.log(row("P1 lbctl apply, empty table", `${median(applyTimes).toFixed(0)} ms`, "-", true));
    console.log(`      ${formatBreakdown(p1Parts)}`);
    console.log(row("P1 ipvsadm -R, same rules", `${median(restoreTimes).toFixed(0)} ms`, "-", true));
    console.log(row("P1 ratio lbctl / ipvsadm -R", p1.toFixed(2), `≤ ${P1_TARGET}`, p1 <= P1_TARGET));
    console.log(row("P2 lbctl apply, nothing to change", `${median(noopTimes).toFixed(0)} ms`, "-", true));
    console.log(`      ${formatBreakdown(p2Parts)}`);
    console.log(row("P2 ipvsadm -Sn", `${median(saveTimes).toFixed(0)} ms`, "-", true));
    console.log(row("P2 ratio lbctl / ipvsadm -Sn", p2.toFixed(2), `≤ ${P2_TARGET}`, p2 <= P2_TARGET));
    const shapeText = `${shape.services === 1 ? "1 service" : `${shape.services} services`} × ${shape.ports === 1 ? "1 port" : shape.services === 1 ? `a ${shape.ports}-port range` : `${shape.ports}-port ranges`} × ${BACKENDS} backends (${size}), median of ${RUNS}`;
    const p1What = `program an empty table, ${shapeText}`;
    const p2What = `apply with nothing to change, ${shapeText}`;
    report({ ...common, id: "P1", what: p1What, name: "`lbctl apply` / `ipvsadm -R` of the same rules", target: `≤ ${P1_TARGET}`, measured: `${p1.toFixed(2)} (${s(median(applyTimes))} / ${s(median(restoreTimes))})`, value: p1, ok: p1 <= P1_TARGET });
    report({ ...common, id: "P1", unit: "ms", what: p1What, name: "where `lbctl apply` spends it", measured: formatBreakdown(p1Parts), value: median(applyTimes), ok: true });
    report({ ...common, id: "P2", what: p2What, name: "`lbctl apply` / one `ipvsadm -Sn`", target: `≤ ${P2_TARGET}`, measured: `${p2.toFixed(2)} (${s(median(noopTimes))} / ${s(median(saveTimes))})`, value: p2, ok: p2 <= P2_TARGET });
    report({ ...common, id: "P2", unit: "ms", what: p2What, name: "where the no-op `lbctl apply` spends it", measured: formatBreakdown(p2Parts), value: median(noopTimes), ok: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
