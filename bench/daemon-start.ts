/**
 * P7, in the kernel lab guest (real IPVS; emulated, so only ratios measured in the same run mean anything): the
 * daemon started on an empty table until 5,000 virtual services × 4 destinations are programmed, against
 * keepalived 2.2.7 (no checkers) started on the same rules, alternated in one guest run. Both are observed from
 * outside: this process polls /proc/net/ip_vs until every destination is there. Target ≤ 0.5 × keepalived, and the
 * daemon's resident memory then ≤ 150 MB (keepalived's reported beside it).
 *
 * Also, from the daemon's own summary record (`changes_applied`), its start-up reconcile against the execute phase
 * of a one-shot `lbctl apply --debug` of the same rules: target ≤ 1.5. The reconcile is its `duration_ms`, which
 * ends when the kernel has acknowledged the last batch (the table is programmed); the events reporting its changes
 * come after, as `events_ms`, printed beside it. That reconcile is read from a second start that nothing polls (see
 * unpolledReconcile), since the one-shot apply runs alone too.
 *
 * Each start (and each one-shot apply) runs in a network namespace of its own (bench/namespace.ts says why), the
 * daemon and keepalived alike, both started through the same `nsenter`; the table is read through
 * /proc/PID/net/ip_vs of the process measured.
 *
 * Shapes: one service with a 5,000-port range (SIP/RTP, game servers) and 100 services × 50 ports.
 * Run: bun tests/lab/launch.ts -- bun bench/daemon-start.ts (npm run bench runs it). BENCH_RUNS (default 2) runs
 * of each program per shape; BENCH_SHAPES=range,many picks shapes.
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { BenchNamespace, destinationsOf } from "./namespace.ts";
import { median, report, row, settleCpus } from "./support.ts";

const root = join(import.meta.dir, "..");
const binary = process.env.LBCTL_BIN ?? join(root, "build/lbctl");
if (!existsSync("/proc/net/ip_vs")) throw new Error("No IPVS here: run this inside the kernel lab (npm run bench does)");
if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build first`);
const keepalived = ["/usr/sbin/keepalived", "/sbin/keepalived"].find((path) => existsSync(path));
if (!keepalived) throw new Error("keepalived is missing: tests/lab/setup.sh installs it (tests/lab/packages.txt)");

const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const SHAPES = (process.env.BENCH_SHAPES ?? "range,many").split(",");
const BACKENDS = 4;
const VIRTUALS = 5000;
const EXPECTED = VIRTUALS * BACKENDS;
const VIP = "10.220.0.1";
const TIMEOUT_MS = 600_000;
const POLL_MS = 100;

interface Shape {
  name: string;
  label: string;
  services: { name: string; first: number; ports: number; backends: string[] }[];
}

function shape(name: string): Shape {
  if (name === "range") {
    return { name, label: "1 service × 5,000-port range × 4", services: [{ name: "rtp", first: 10000, ports: VIRTUALS, backends: backendsOf(0) }] };
  }
  return {
    name,
    label: "100 services × 50 ports × 4",
    services: Array.from({ length: 100 }, (_, s) => ({ name: `svc${s}`, first: 10000 + s * 50, ports: 50, backends: backendsOf(s) })),
  };
}

function backendsOf(s: number): string[] {
  return Array.from({ length: BACKENDS }, (_, b) => `10.${30 + b}.${s >> 8}.${(s & 255) + 1}`);
}

const dir = mkdtempSync(join(tmpdir(), "lbctl-p7-"));

async function writeLbctlConfig(s: Shape): Promise<string> {
  const main = join(dir, s.name, "config.yaml");
  const services = s.services.map((svc) => ({
    name: svc.name,
    ports: [`${svc.first}-${svc.first + svc.ports - 1}`],
    scheduler: "wlc",
    backends: svc.backends.map((address, b) => ({ address, weight: 1 + b })),
  }));
  await Bun.write(join(dir, s.name, "config.d/services.yaml"), stringify({ services }));
  await Bun.write(
    main,
    stringify({
      node: { name: "bench" },
      network: { frontend: { vip: VIP } },
      system: { state_dir: join(dir, `state-${s.name}`) },
      daemon: { socket: join(dir, `${s.name}.sock`) },
    }),
  );
  return main;
}

/** The same rules for keepalived: one virtual_server per port, real servers without checkers (always up). */
async function writeKeepalivedConfig(s: Shape): Promise<string> {
  const lines = ["global_defs {", "  router_id bench", "}"];
  for (const svc of s.services) {
    for (let p = svc.first; p < svc.first + svc.ports; p++) {
      lines.push(`virtual_server ${VIP} ${p} {`, "  lb_algo wlc", "  lb_kind NAT", "  protocol TCP");
      svc.backends.forEach((address, b) => lines.push(`  real_server ${address} ${p} {`, `    weight ${1 + b}`, "  }"));
      lines.push("}");
    }
  }
  const file = join(dir, `keepalived-${s.name}.conf`);
  await Bun.write(file, `${lines.join("\n")}\n`);
  return file;
}

/** Resident memory of a process and its descendants, in MB. */
function rssMb(pid: number): number {
  let kb = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
    kb += Number(match?.[1] ?? 0);
  }
  return kb / 1024;
}

function descendants(pid: number): number[] {
  const parents: [number, number][] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.push([Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

interface StartRun {
  ms: number;
  rssMb: number;
}

/**
 * Spawns `command` in a new namespace (an empty table) and polls until EXPECTED destinations are programmed. The
 * caller stops the process, then closes the namespace.
 */
async function timeStart(command: string[], logFile: string, label: string): Promise<StartRun & { proc: ReturnType<typeof Bun.spawn>; namespace: BenchNamespace }> {
  const namespace = BenchNamespace.create(label);
  try {
    const started = Bun.nanoseconds();
    const proc = Bun.spawn(namespace.command(command), { stdout: Bun.file(logFile), stderr: Bun.file(logFile), stdin: "ignore" });
    const pid = proc.pid!;
    const programmed = () => {
      try {
        return destinationsOf(pid);
      } catch {
        return 0; // nsenter has not exec'd the command yet, or it is gone (checked below)
      }
    };
    while (programmed() < EXPECTED) {
      if (proc.exitCode !== null) throw new Error(`${command.join(" ")} exited ${proc.exitCode} before programming the table: ${readFileSync(logFile, "utf8").slice(-2000)}`);
      if ((Bun.nanoseconds() - started) / 1e6 > TIMEOUT_MS) throw new Error(`${command[0]}: ${programmed()} of ${EXPECTED} destinations after ${TIMEOUT_MS} ms`);
      // Reading a 25,000-entry /proc/net/ip_vs costs the emulated guest's CPUs much: polling harder would slow what it measures.
      await Bun.sleep(POLL_MS);
    }
    const ms = (Bun.nanoseconds() - started) / 1e6;
    return { ms, rssMb: rssMb(pid), proc, namespace };
  } catch (error) {
    namespace.close();
    throw error;
  }
}

async function stop(proc: ReturnType<typeof Bun.spawn>): Promise<number> {
  proc.kill("SIGTERM");
  // The daemon handles SIGTERM between its turns; a periodic converge of a 25,000-entry table in the loaded,
  // emulated guest is one long turn.
  const timer = setTimeout(() => proc.kill("SIGKILL"), 90_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

async function waitForLine(file: string, text: string, timeoutMs: number): Promise<void> {
  const started = performance.now();
  while (!readFileSync(file, "utf8").includes(text)) {
    if (performance.now() - started > timeoutMs) throw new Error(`no "${text}" in ${file} after ${timeoutMs} ms: ${readFileSync(file, "utf8").slice(-2000)}`);
    await Bun.sleep(50);
  }
}

/** The phases of a one-shot `lbctl apply --debug` from an empty table (a new namespace), in ms. */
function applyPhases(config: string, label: string): { execute: number; desired: number; plan: number } {
  const namespace = BenchNamespace.create(label);
  try {
    const result = Bun.spawnSync(namespace.command([binary, "apply", "--force", "--debug", "--config", config]), { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`lbctl apply exited ${result.exitCode}: ${result.stderr}`);
    const output = `${result.stdout}${result.stderr}`;
    const phase = (name: string) => {
      const match = new RegExp(`Phase ${name} took ([\\d.]+) ms`).exec(output);
      if (!match) throw new Error(`lbctl apply --debug printed no ${name} phase`);
      return Number(match[1]);
    };
    return { execute: phase("execute"), desired: phase("desired"), plan: phase("plan") };
  } finally {
    namespace.close();
  }
}

/**
 * The daemon's start-up reconcile from a start nobody polls: the one-shot apply it is compared with runs alone too.
 * The polled start of P7 shares the guest's CPUs with the reads of a growing /proc/net/ip_vs, which slowed its
 * execute phase 2.6-fold in one loaded run (8.4 s against the one-shot's 3.2 s for the same operations).
 */
async function unpolledReconcile(config: string, log: string, label: string): Promise<Record<string, number>> {
  const namespace = BenchNamespace.create(label);
  try {
    const proc = Bun.spawn(namespace.command([binary, "apply", "--daemon", "--config", config]), { stdout: Bun.file(log), stderr: Bun.file(log), stdin: "ignore" });
    let exitCode: number;
    try {
      await waitForLine(log, "audit=daemon_started", TIMEOUT_MS);
    } finally {
      exitCode = await stop(proc);
    }
    if (exitCode !== 0) throw new Error(`the daemon exited ${exitCode} on SIGTERM: ${readFileSync(log, "utf8").slice(-2000)}`);
    return startupSummary(readFileSync(log, "utf8"));
  } finally {
    namespace.close();
  }
}

/** The fields of the daemon's start-up summary record (`changes_applied` with trigger=startup). */
function startupSummary(log: string): Record<string, number> {
  const line = log.split("\n").find((l) => l.includes("audit=changes_applied") && l.includes("trigger=startup"));
  if (!line) throw new Error(`the daemon wrote no start-up summary record:\n${log.slice(-2000)}`);
  const fields: Record<string, number> = {};
  for (const [, key, value] of line.matchAll(/ (\w+)=([\d.]+)(?= |$)/g)) fields[key!] = Number(value);
  return fields;
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

try {
  for (const name of SHAPES) {
    const s = shape(name);
    const config = await writeLbctlConfig(s);
    const keepalivedConfig = await writeKeepalivedConfig(s);
    const lbctl: StartRun[] = [];
    const peer: StartRun[] = [];
    const reconcileMs: number[] = [];
    const polledReconcileMs: number[] = [];
    const executeMs: number[] = [];
    const eventsMs: number[] = [];
    const sameWorkMs: number[] = [];
    const settledMs: number[] = [];
    let breakdown = "";
    for (let run = 0; run < RUNS; run++) {
      const log = join(dir, `lbctl-${name}-${run}.log`);
      const daemon = await timeStart([binary, "apply", "--daemon", "--config", config], log, `${name}-lbctl`);
      // Its start-up record (where the time went) comes once the control socket answers.
      let exitCode: number;
      try {
        await waitForLine(log, "audit=daemon_started", 120_000);
      } finally {
        exitCode = await stop(daemon.proc);
        daemon.namespace.close();
      }
      if (exitCode !== 0) throw new Error(`the daemon exited ${exitCode} on SIGTERM: ${readFileSync(log, "utf8").slice(-2000)}`);
      lbctl.push(daemon);
      polledReconcileMs.push(startupSummary(readFileSync(log, "utf8")).duration_ms!);
      const started = readFileSync(log, "utf8").split("\n").find((l) => l.includes("audit=daemon_started")) ?? "";
      const pidFiles = ["-p", join(dir, "k.pid"), "-c", join(dir, "kc.pid"), "-r", join(dir, "kv.pid")];
      const ka = await timeStart([keepalived, "-n", "-l", "-C", ...pidFiles, "-f", keepalivedConfig], join(dir, `keepalived-${name}-${run}.log`), `${name}-keepalived`);
      try {
        await stop(ka.proc);
      } finally {
        ka.namespace.close();
      }
      peer.push(ka);
      // The two runs compared with each other start on an idle guest: the kernel tears a closed namespace's 20,000
      // destinations down in the background, and whichever start came right after a close paid for it.
      settledMs.push(await settleCpus());
      const summary = await unpolledReconcile(config, join(dir, `lbctl-${name}-${run}-unpolled.log`), `${name}-lbctl-alone`);
      // duration_ms ends when the kernel acknowledged the last batch (the table is programmed); the events that
      // report its changes follow, as events_ms, printed beside it.
      reconcileMs.push(summary.duration_ms!);
      eventsMs.push(summary.events_ms ?? 0);
      breakdown = `${started.replace(/^.*audit=daemon_started /, "")} | reconcile (unpolled) ${["duration_ms", "read_ms", "plan_ms", "execute_ms", "events_ms"].map((k) => `${k}=${summary[k]}`).join(" ")}`;
      settledMs.push(await settleCpus());
      const phases = applyPhases(config, `${name}-apply`);
      executeMs.push(phases.execute);
      sameWorkMs.push(phases.desired + phases.plan + phases.execute);
      breakdown += ` | one-shot desired=${phases.desired} plan=${phases.plan} execute=${phases.execute}`;
    }
    const ratio = median(lbctl.map((r) => r.ms)) / median(peer.map((r) => r.ms));
    const rss = Math.max(...lbctl.map((r) => r.rssMb));
    const peerRss = Math.max(...peer.map((r) => r.rssMb));
    const bulk = median(reconcileMs) / median(executeMs);
    console.log(`daemon start (kernel lab guest, ${s.label}, median of ${RUNS})`);
    console.log(row("P7 lbctl daemon, start to programmed", s1(median(lbctl.map((r) => r.ms))), "-", true));
    console.log(row("P7 keepalived -C, start to programmed", s1(median(peer.map((r) => r.ms))), "-", true));
    console.log(row("P7 ratio lbctl / keepalived", ratio.toFixed(2), "≤ 0.5", ratio <= 0.5));
    console.log(row("P7 lbctl RSS", `${rss.toFixed(0)} MB (keepalived ${peerRss.toFixed(0)} MB)`, "≤ 150 MB", rss <= 150));
    console.log(row("P7 start-up reconcile / apply execute phase", `${bulk.toFixed(2)} (${s1(median(reconcileMs))} / ${s1(median(executeMs))})`, "≤ 1.5", bulk <= 1.5));
    console.log(`INFO  waited for an idle guest before the unpolled start and the one-shot apply: ${settledMs.map((ms) => s1(ms)).join(", ")}`);
    console.log(`INFO  the reconcile's events after the table is programmed (events_ms, not in the reconcile): ${s1(median(eventsMs))}; reconcile + events / apply execute phase: ${(median(reconcileMs.map((ms, i) => ms + eventsMs[i]!)) / median(executeMs)).toFixed(2)}`);
    console.log(`INFO  daemon start-up: ${breakdown}`);
    console.log(`INFO  the same reconcile in the polled start: ${s1(median(polledReconcileMs))}; against the one-shot's desired + plan + execute (the same work): ${(median(reconcileMs) / median(sameWorkMs)).toFixed(2)} (${s1(median(reconcileMs))} / ${s1(median(sameWorkMs))})`);
    const common = { id: "P7", where: "guest" as const, bench: "daemon-start" };
    const what = `daemon start on an empty table to 5,000 virtual services × 4 programmed (${s.label}), median of ${RUNS}`;
    report({ ...common, what, name: `daemon start / keepalived 2.2.7 start, no checkers (${s.name})`, target: "≤ 0.5", unit: "ratio", value: ratio, ok: ratio <= 0.5, measured: `${ratio.toFixed(2)} (${s1(median(lbctl.map((r) => r.ms)))} / ${s1(median(peer.map((r) => r.ms)))})` });
    report({ ...common, what, name: `daemon RSS once programmed (${s.name}); keepalived beside it`, target: "≤ 150 MB", unit: "MB", value: rss, ok: rss <= 150, measured: `${rss.toFixed(0)} MB (keepalived ${peerRss.toFixed(0)} MB)` });
    report({ ...common, what, name: `start-up reconcile / one-shot apply's execute phase (${s.name})`, target: "≤ 1.5", unit: "ratio", value: bulk, ok: bulk <= 1.5, measured: `${bulk.toFixed(2)} (${s1(median(reconcileMs))} / ${s1(median(executeMs))})` });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
