/**
 * VRRP failover with FRR in the guest: two director namespaces on one bridge, each with its own zebra + vrrpd
 * (config written by `lbctl setup frr`, separate run folders), its own lbctl daemon and its own IPVS table (IPVS is
 * per network namespace; nothing here reads or writes the guest's root table, only the bridge lives there).
 * Killing the primary's FRR moves the VIP to the secondary within the master-down interval.
 *
 * Each director's folder (lbctl's config and state, FRR's config, pid files, sockets and logs) is made for this run
 * under /run, outside the repository, and owned by `frr`: zebra and vrrpd drop to that user, which cannot reach a
 * clone in a private home folder (/root is mode 0700).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { IpvsNamespace } from "./support/ipvs-namespace.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { requireLab, run, runQuietly } from "./support/index.ts";

const VIP = "10.210.0.100";
const VRID = 50;
const ADVERT_MS = 200;
const RECONCILE_MS = 500;
const MACVLAN_MAC = "00:00:5e:00:01:32";
const directors = [1, 2] as const;
const daemons: ReturnType<typeof Bun.spawn>[] = [];
/** Everything each director's lbctl daemon printed (console log at debug level), by director number. */
const daemonOutput = new Map<number, string>();
/** This run's folder, under /run (the guest's own tmpfs): see the header comment. */
let runDir = "";
/** Each director's network namespace, by director number: its IPVS table, its VIP, its FRR and lbctl daemon. */
const namespaces = new Map<number, IpvsNamespace>();

function director(n: number): IpvsNamespace {
  const namespace = namespaces.get(n);
  if (!namespace) throw new Error(`director ${n} has no namespace`);
  return namespace;
}
const ns = (n: number) => director(n).name;
const folder = (n: number) => join(runDir, `d${n}`);
const inNs = (n: number, argv: string[]) => director(n).exec(argv);

function protodown(n: number): boolean {
  // lbctl setup frr names the macvlan after the parent's ifindex: find it by its virtual MAC.
  const links = JSON.parse(run(["ip", "-n", ns(n), "-j", "-d", "link", "show"])) as { address?: string; proto_down?: boolean }[];
  const link = links.find((l) => l.address === MACVLAN_MAC);
  if (!link) throw new Error(`no macvlan with ${MACVLAN_MAC} in ${ns(n)}`);
  return link.proto_down === true;
}

function startFrr(n: number): void {
  const dir = folder(n);
  const common = ["-d", "-u", "frr", "-g", "frr", "-f", join(dir, "frr.conf"), "-z", join(dir, "zserv.api"), "--vty_socket", dir, "-P", "0"];
  inNs(n, ["/usr/lib/frr/zebra", ...common, "-i", join(dir, "zebra.pid"), "--log", `file:${join(dir, "zebra.log")}`]);
  inNs(n, ["/usr/lib/frr/vrrpd", ...common, "-i", join(dir, "vrrpd.pid"), "--log", `file:${join(dir, "vrrpd.log")}`]);
}

function stopFrr(n: number): void {
  for (const daemon of ["vrrpd", "zebra"]) {
    try {
      process.kill(Number(readFileSync(join(folder(n), `${daemon}.pid`), "utf8")), "SIGKILL");
    } catch {
      // not running
    }
  }
}

/** Starts director n's lbctl daemon with its output kept in daemonOutput. */
function startDaemon(n: number, config: string): void {
  const child = Bun.spawn(director(n).lbctlCommand(["daemon", "--config", config]), {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  daemonOutput.set(n, "");
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) daemonOutput.set(n, daemonOutput.get(n) + decoder.decode(chunk, { stream: true }));
  };
  void pump(child.stdout);
  void pump(child.stderr);
  daemons.push(child);
}

/** How many periodic reconciles director n's daemon has finished (its debug line "Reconciled ... trigger=interval"). */
const intervalReconciles = (n: number) => (daemonOutput.get(n) ?? "").split("\n").filter((line) => /Reconciled.* trigger=interval/.test(line)).length;

/** waitFor, with both daemons' output in the error: a timeout is then explained by what the daemons said. */
async function waitForOrShow(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs, what);
  } catch (error) {
    const logs = directors.map((n) => `--- lbctl daemon of director ${n}:\n${(daemonOutput.get(n) ?? "").slice(-4000)}`).join("\n");
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

beforeAll(async () => {
  requireLab();
  runDir = mkdtempSync("/run/lbctl-ha-");
  run(["ip", "link", "add", "lbha-br", "type", "bridge"]);
  run(["ip", "link", "set", "lbha-br", "up"]);
  for (const n of directors) {
    const dir = folder(n);
    mkdirSync(dir);
    namespaces.set(n, IpvsNamespace.create());
    run(["ip", "link", "add", `lbha-v${n}`, "type", "veth", "peer", "name", "eth0", "netns", ns(n)]);
    run(["ip", "link", "set", `lbha-v${n}`, "master", "lbha-br", "up"]);
    inNs(n, ["ip", "addr", "add", `10.210.0.1${n}/24`, "dev", "eth0"]);
    inNs(n, ["ip", "link", "set", "eth0", "up"]);
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      stringify({
        node: { name: `lb-${n}`, role: n === 1 ? "primary" : "secondary" },
        network: { frontend: { interface: "eth0", vip: VIP } },
        vrrp: { vrid: VRID, advert_interval_ms: ADVERT_MS },
        system: { state_dir: join(dir, "state"), frr_config: join(dir, "frr.conf") },
        daemon: { reconcile_interval_ms: RECONCILE_MS, socket: join(dir, "lbctl.sock"), standby: "cold" },
        // debug: every reconcile is logged, the positive sign the tests wait for before asserting a table unchanged.
        observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
      }),
    );
    mkdirSync(join(dir, "config.d"));
    writeFileSync(join(dir, "config.d/web.yaml"), stringify({ services: [{ name: "web", ports: [80], scheduler: "rr", backends: [{ address: "10.210.0.50" }] }] }));
    // lbctl writes FRR's config and creates the macvlan FRR's VRRP needs.
    writeFileSync(join(dir, "frr.conf"), "frr defaults traditional\nlog syslog informational\n");
    const setup = await runLbctlIn(n, ["setup", "frr", "--macvlan", "--config", config]);
    expect(setup.exitCode).toBe(0);
    // zebra and vrrpd run as frr: they write their pid files, sockets and logs here.
    run(["chown", "-R", "frr:frr", runDir]);
    startFrr(n);
    startDaemon(n, config);
  }
}, 120_000);

afterAll(() => {
  for (const child of daemons) child.kill("SIGKILL");
  for (const n of directors) {
    stopFrr(n);
    // Kills what still runs inside, then deletes the namespace and its IPVS table.
    namespaces.get(n)?.destroy();
  }
  runQuietly(["ip", "link", "del", "lbha-br"]);
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

const runLbctlIn = (n: number, args: string[]) => director(n).lbctl(args);

const ipvsSave = (n: number) => director(n).ipvsadm(["-Sn"]);

test("the primary is elected; killing its FRR moves the VIP to the secondary within the master-down interval", async () => {
  expect(readFileSync(join(folder(1), "frr.conf"), "utf8")).toContain(` vrrp ${VRID} advertisement-interval ${ADVERT_MS}\n`);
  await waitForOrShow(() => !protodown(1) && protodown(2), 30_000, "director 1 master, director 2 backup");
  // Cold standby: only the director that holds the VIP (the master, whose macvlan is not in protodown) has it.
  await waitForOrShow(() => ipvsSave(1).includes(`-A -t ${VIP}:80 -s rr`), 30_000, "the service in the master's table");
  // The backup's daemon must have reconciled since (two periodic runs: one may have started before), or an empty
  // table would prove nothing.
  const seen = intervalReconciles(2);
  await waitForOrShow(() => intervalReconciles(2) >= seen + 2, 30_000, "two periodic reconciles of the backup's daemon");
  expect(ipvsSave(2)).not.toContain(`-A -t ${VIP}:80`);
  const vipsOf = async (n: number) => JSON.parse((await runLbctlIn(n, ["status", "--json", "--config", join(folder(n), "config.yaml")])).stdout).vips;
  expect(await vipsOf(1)).toEqual([{ vip: VIP, held: true }]);
  expect(await vipsOf(2)).toEqual([{ vip: VIP, held: false }]);

  const doctorPrimary = JSON.parse((await runLbctlIn(1, ["doctor", "--json", "--config", join(folder(1), "config.yaml")])).stdout);
  const byName = (report: any) => new Map(report.checks.map((c: any) => [c.name, c]));
  expect(byName(doctorPrimary).get(`vip ${VIP}`)).toMatchObject({ status: "pass" });
  expect(byName(doctorPrimary).get("frr block")).toMatchObject({ status: "pass" });
  expect(byName(doctorPrimary).get("frr macvlan ipv4")).toMatchObject({ status: "pass" });
  const doctorBackup = JSON.parse((await runLbctlIn(2, ["doctor", "--json", "--config", join(folder(2), "config.yaml")])).stdout);
  expect(byName(doctorBackup).get(`vip ${VIP}`)).toMatchObject({ status: "pass", message: expect.stringContaining("VRRP backup") });

  stopFrr(1);
  const killed = performance.now();
  await waitForOrShow(() => !protodown(2), 10_000, "director 2 to become master");
  // The secondary's daemon sees the VIP held and programs its service (cold standby).
  await waitForOrShow(() => ipvsSave(2).includes(`-A -t ${VIP}:80 -s rr`), 10_000, "the service in the new master's table");
  const active = performance.now() - killed;
  // master-down interval = 3 × advertisement interval + skew (< 1 s here), plus one reconcile interval and margin
  // for the emulated guest.
  expect(active).toBeLessThan(3 * ADVERT_MS + 256 + RECONCILE_MS + 2000);
  expect(await vipsOf(2)).toEqual([{ vip: VIP, held: true }]);
  const after = JSON.parse((await runLbctlIn(2, ["doctor", "--json", "--config", join(folder(2), "config.yaml")])).stdout);
  expect(byName(after).get(`vip ${VIP}`)).toMatchObject({ status: "warn", message: expect.stringContaining("held by this secondary") });
  expect(daemonOutput.get(2)).toContain(`audit=vip_acquired vip=${VIP}`);
  // The secondary's daemon answers and keeps its table through further reconciles.
  const reconciled = intervalReconciles(2);
  await waitForOrShow(() => intervalReconciles(2) >= reconciled + 2, 30_000, "two more periodic reconciles of the new master's daemon");
  const status = await runLbctlIn(2, ["status", "--json", "--config", join(folder(2), "config.yaml")]);
  expect(status.stderr).toBe("");
  expect(status.exitCode).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ daemon: true, vips: [{ vip: VIP, held: true }] });
  expect(ipvsSave(2)).toContain(`-A -t ${VIP}:80 -s rr`);
  expect(ipvsSave(2)).toContain(`-a -t ${VIP}:80 -r 10.210.0.50:80`);
}, 180_000);
