/**
 * C1 (kernel lab guest): the config of bench/port-range.ts (one UDP service of 60,000 ports × 4 backends beside
 * 100 TCP services × 50 ports × 4: 65,000 virtual services, 260,000 destinations) through a real kernel.
 * `lbctl apply` fills an empty table beside `ipvsadm -R` of the same rules (P1's ratio), and applies again with
 * nothing to change beside one `ipvsadm -Sn` (P2's ratio); each tool in a network namespace of its own, as P1. The table lbctl wrote is checked against the config
 * (counts and sample lines of `ipvsadm -Sn`) before any figure is printed. The guest's CPU is emulated: only the
 * ratios compare with real hardware. One run of each (the table is large).
 * Run: npm run bench -- port-range-kernel, or by hand:
 *   bun tests/lab/launch.ts --timeout 3600 -- bun bench/port-range-kernel.ts
 * BENCH_RANGE_PORTS=N shrinks the range (a quick check of the bench itself; its figures are then not C1's).
 */

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BACKENDS, RANGE_FIRST_PORT, RANGE_PORTS, VIP, WEB_PORTS, WEB_SERVICES, writePortRangeConfig } from "./port-range-config.ts";
import { BenchNamespace } from "./namespace.ts";
import { report, row } from "./support.ts";

const P1_TARGET = 0.3;
const P2_TARGET = 1.1;
const rangePorts = Number(process.env.BENCH_RANGE_PORTS ?? RANGE_PORTS);

if (!existsSync("/proc/net/ip_vs")) throw new Error("No IPVS here: run this inside the kernel lab (see the header)");
const lbctl = process.env.LBCTL_BIN ?? join(import.meta.dir, "../build/lbctl");
if (!existsSync(lbctl)) throw new Error(`${lbctl} is missing: run npm run build first`);

function run(command: string[], stdin?: string): { ms: number; stdout: string; output: string } {
  const started = Bun.nanoseconds();
  const result = Bun.spawnSync(command, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  const ms = (Bun.nanoseconds() - started) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr.toString().slice(0, 2000)}`);
  const stdout = result.stdout.toString();
  return { ms, stdout, output: stdout + result.stderr.toString() };
}

/** The kernel's table must be the config's: counts, and the first and last virtual service of each shape. */
function checkTable(save: string): void {
  const lines = save.trim().split("\n");
  const services = lines.filter((line) => line.startsWith("-A ")).length;
  const destinations = lines.filter((line) => line.startsWith("-a ")).length;
  const expected = rangePorts + WEB_SERVICES * WEB_PORTS;
  const table = new Set(lines);
  const last = RANGE_FIRST_PORT + rangePorts - 1;
  const lastWeb = 10000 + WEB_SERVICES * WEB_PORTS - 1;
  const lastWebBackend = `10.30.${(WEB_SERVICES - 1) >> 8}.${((WEB_SERVICES - 1) & 255) + 1}`;
  const samples = [
    `-A -u ${VIP}:${RANGE_FIRST_PORT} -s wlc`,
    `-A -u ${VIP}:${last} -s wlc`,
    `-a -u ${VIP}:${last} -r 10.33.0.201:${last} -m -w 4`,
    `-a -t ${VIP}:${lastWeb} -r ${lastWebBackend}:${lastWeb} -m -w 1`,
  ];
  const missing = samples.filter((line) => !table.has(line));
  if (services !== expected || destinations !== BACKENDS * expected || missing.length > 0) {
    throw new Error(`the kernel table does not match the config: ${services} services, ${destinations} destinations (expected ${expected} and ${BACKENDS * expected}), missing ${JSON.stringify(missing)}`);
  }
}

const { dir, main } = writePortRangeConfig(rangePorts, true, (at) => ({ system: { state_dir: join(at, "state") }, daemon: { socket: join(at, "lbctl.sock") } }));
// Each tool programs a namespace of its own: a table cleared between them would leave 260,000 destinations in the
// kernel's trash, which every later NEW_DEST scans (bench/namespace.ts).
const namespaces: BenchNamespace[] = [];
const fresh = (label: string) => {
  const namespace = BenchNamespace.create(label);
  namespaces.push(namespace);
  return namespace;
};
const close = (namespace: BenchNamespace) => {
  namespaces.splice(namespaces.indexOf(namespace), 1);
  namespace.close();
};
try {
  const ours = fresh("range-lbctl");
  const fill = run(ours.command([lbctl, "apply", "--force", "--config", main]));
  const save = run(ours.command(["ipvsadm", "-Sn"]));
  checkTable(save.stdout);
  const noop = run(ours.command([lbctl, "apply", "--debug", "--config", main]));
  const phases = [...noop.output.matchAll(/Phase (\w+) took ([\d.]+) ms/g)].map(([, phase, ms]) => `${phase} ${(Number(ms) / 1000).toFixed(1)} s`);
  const table = ours.table();
  close(ours);
  const peer = fresh("range-ipvsadm");
  const restore = run(peer.command(["ipvsadm", "-R"]), save.stdout);
  if (peer.table() !== table) throw new Error("ipvsadm -R did not program the table lbctl programmed");
  close(peer);

  const virtualServices = rangePorts + WEB_SERVICES * WEB_PORTS;
  const what = `one service of ${rangePorts.toLocaleString("en")} ports × ${BACKENDS} beside ${WEB_SERVICES} services × ${WEB_PORTS} ports × ${BACKENDS} (${virtualServices.toLocaleString("en")} virtual services × ${BACKENDS}), one run (guest)`;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const p1 = fill.ms / restore.ms;
  const p2 = noop.ms / save.ms;
  console.log(`port range (kernel lab guest, wall time, one run): ${virtualServices.toLocaleString("en")} virtual services × ${BACKENDS}`);
  console.log(row("lbctl apply, empty table → full", s(fill.ms), "-", true));
  console.log(row("ipvsadm -R of the same rules", s(restore.ms), "-", true));
  console.log(row("ratio lbctl apply / ipvsadm -R", p1.toFixed(2), `≤ ${P1_TARGET} (as P1)`, p1 <= P1_TARGET));
  console.log(row("lbctl apply, nothing to change", s(noop.ms), "-", true));
  console.log(row("ipvsadm -Sn of the full table", s(save.ms), "-", true));
  console.log(row("ratio no-op apply / ipvsadm -Sn", p2.toFixed(2), `≤ ${P2_TARGET} (as P2)`, p2 <= P2_TARGET));
  console.log(`      phases of the no-op apply: ${phases.join(", ") || "(not printed)"}`);
  const common = { id: "C1", what, where: "guest" as const, bench: "port-range-kernel", unit: "ratio" };
  report({ ...common, name: "program an empty table: `lbctl apply` / `ipvsadm -R` of the same rules", target: `≤ ${P1_TARGET}`, measured: `${p1.toFixed(2)} (${s(fill.ms)} / ${s(restore.ms)})`, value: p1, ok: p1 <= P1_TARGET });
  report({ ...common, name: "nothing to change: `lbctl apply` / one `ipvsadm -Sn`", target: `≤ ${P2_TARGET}`, measured: `${p2.toFixed(2)} (${s(noop.ms)} / ${s(save.ms)})`, value: p2, ok: p2 <= P2_TARGET });
} finally {
  for (const namespace of [...namespaces]) close(namespace);
  rmSync(dir, { recursive: true, force: true });
}
