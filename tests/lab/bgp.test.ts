/**
 * BGP scale-out in the kernel lab: three director namespaces, each running FRR (zebra + bgpd, config written by
 * `lbctl setup frr`) and the lbctl daemon with the same config; a router namespace running bgpd with ECMP
 * (`maximum-paths`); two direct-routing backends and the routers' LAN on one bridge; a client behind the router.
 * The router must have three equal-cost next hops for the VIP while every director can serve it, drop the one whose
 * backends fail (health-gated withdrawal), and drop one whose lbctl is stopped with SIGTERM (withdrawn first: no
 * request fails through its drain).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { IpvsNamespace } from "./support/ipvs-namespace.ts";
import { startDaemon, waitFor, type RunningDaemon } from "./support/lbctl-daemon.ts";
import { requireLab, run, runQuietly } from "./support/index.ts";

const VIP = "10.215.0.100";
const PORT = 8080;
const ROUTER_LAN = "10.213.0.1";
const BACKENDS = ["10.213.0.51", "10.213.0.52"];
const BRIDGE = "lbbgp-br";
const directors = [1, 2, 3] as const;
const directorAddress = (n: number) => `10.213.0.1${n}`;

let runDir = "";
const namespaces = new Map<string, IpvsNamespace>();
const daemons = new Map<number, RunningDaemon>();

function ns(name: string): IpvsNamespace {
  const namespace = namespaces.get(name);
  if (!namespace) throw new Error(`no namespace ${name}`);
  return namespace;
}
const folder = (name: string) => join(runDir, name);

function addToBridge(namespace: IpvsNamespace, hostSide: string, address: string): void {
  run(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", namespace.name]);
  run(["ip", "link", "set", hostSide, "master", BRIDGE, "up"]);
  namespace.exec(["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
  namespace.exec(["ip", "link", "set", "eth0", "up"]);
}

/** zebra and bgpd inside `name`, with their files in its folder (owned by frr, which they run as). */
function startFrr(name: string): void {
  const dir = folder(name);
  const common = ["-d", "-u", "frr", "-g", "frr", "-f", join(dir, "frr.conf"), "-z", join(dir, "zserv.api"), "--vty_socket", dir, "-P", "0"];
  ns(name).exec(["/usr/lib/frr/zebra", ...common, "-i", join(dir, "zebra.pid"), "--log", `file:${join(dir, "zebra.log")}`]);
  ns(name).exec(["/usr/lib/frr/bgpd", ...common, "-i", join(dir, "bgpd.pid"), "--log", `file:${join(dir, "bgpd.log")}`]);
}

function killFrr(name: string): void {
  for (const daemon of ["bgpd", "zebra"]) {
    try {
      process.kill(Number(readFileSync(join(folder(name), `${daemon}.pid`), "utf8")), "SIGKILL");
    } catch {
      // not running
    }
  }
}

/** The router's next hops for the VIP, sorted. */
function nextHops(): string[] {
  const routes = JSON.parse(ns("router").exec(["ip", "-j", "route", "show", `${VIP}/32`])) as { gateway?: string; nexthops?: { gateway: string }[] }[];
  const route = routes[0];
  if (!route) return [];
  return (route.nexthops?.map((hop) => hop.gateway) ?? (route.gateway ? [route.gateway] : [])).sort();
}

const allDirectors = () => directors.map(directorAddress).sort();

/** One short request from the client through the VIP: the backend's answer, or the error. */
function request(): string {
  try {
    // Generous timeouts: the backend forks a shell per answer, slow in a loaded emulated guest.
    // -t: once its empty input has ended, socat waits this long for the answer (its default, 0.5 s, is too short).
    return ns("client").exec(["socat", "-t10", "-T10", "-", `TCP:${VIP}:${PORT},connect-timeout=5`], { input: "", timeoutMs: 20_000 }).trim();
  } catch (error) {
    return `failed: ${(error as Error).message.split("\n")[0]}`;
  }
}

/** Connections each director's IPVS has seen (`ipvsadm -Ln --stats`, the service's Conns column). */
function connectionsPer(n: number): number {
  const text = ns(`d${n}`).ipvsadm(["-L", "-n", "--stats"]);
  const line = text.split("\n").find((l) => l.startsWith(`TCP  ${VIP}:${PORT}`));
  return line ? Number(line.trim().split(/\s+/)[2]) : 0;
}

beforeAll(async () => {
  requireLab();
  runDir = mkdtempSync("/run/lbctl-bgp-");
  run(["ip", "link", "add", BRIDGE, "type", "bridge"]);
  run(["ip", "link", "set", BRIDGE, "up"]);

  // The router: the LAN on the bridge, the client on a link of its own, ECMP hashing on ports.
  const router = IpvsNamespace.create();
  namespaces.set("router", router);
  addToBridge(router, "lbbgp-r", ROUTER_LAN);
  router.enter(() => writeFileSync("/proc/sys/net/ipv4/fib_multipath_hash_policy", "1\n"));
  const client = IpvsNamespace.create();
  namespaces.set("client", client);
  run(["ip", "link", "add", "lbbgp-c", "netns", router.name, "type", "veth", "peer", "name", "eth0", "netns", client.name]);
  router.exec(["ip", "addr", "add", "10.214.0.1/24", "dev", "lbbgp-c"]);
  router.exec(["ip", "link", "set", "lbbgp-c", "up"]);
  client.exec(["ip", "addr", "add", "10.214.0.2/24", "dev", "eth0"]);
  client.exec(["ip", "link", "set", "eth0", "up"]);
  client.exec(["ip", "route", "add", "default", "via", "10.214.0.1"]);
  mkdirSync(folder("router"));
  writeFileSync(
    join(folder("router"), "frr.conf"),
    [
      "frr defaults traditional",
      "router bgp 65000",
      " bgp router-id 10.213.0.1",
      " no bgp ebgp-requires-policy",
      " timers bgp 1 3",
      ...directors.map((n) => ` neighbor ${directorAddress(n)} remote-as 65001`),
      " address-family ipv4 unicast",
      "  maximum-paths 8",
      " exit-address-family",
      "exit",
      "",
    ].join("\n"),
  );

  // Direct-routing backends: the VIP on lo, never answered in ARP, replies straight to the client through the router.
  BACKENDS.forEach((address, i) => {
    const backend = IpvsNamespace.create();
    namespaces.set(`b${i + 1}`, backend);
    addToBridge(backend, `lbbgp-b${i + 1}`, address);
    backend.exec(["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
    backend.exec(["ip", "route", "add", "default", "via", ROUTER_LAN]);
    backend.enter(() => {
      for (const key of ["all", "eth0"]) {
        writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_ignore`, "1\n");
        writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_announce`, "2\n");
      }
    });
    // -t 20: after the client's EOF, socat gives the forked shell this long to answer (its default, 0.5 s, is shorter
    // than a fork and exec take in a loaded emulated guest).
    Bun.spawn(backend.command(["socat", "-t", "20", `TCP-LISTEN:${PORT},fork,reuseaddr`, `SYSTEM:echo b${i + 1}`]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  });

  for (const n of directors) {
    const name = `d${n}`;
    const director = IpvsNamespace.create();
    namespaces.set(name, director);
    addToBridge(director, `lbbgp-d${n}`, directorAddress(n));
    director.exec(["ip", "route", "add", "default", "via", ROUTER_LAN]);
    const dir = folder(name);
    mkdirSync(join(dir, "config.d"), { recursive: true });
    writeFileSync(
      join(dir, "config.yaml"),
      stringify({
        node: { name: `lb-${n}` },
        network: { frontend: { interface: "eth0", vip: VIP } },
        bgp: { enabled: true, local_asn: 65001, router_id: directorAddress(n), neighbors: [{ address: ROUTER_LAN, remote_asn: 65000 }], keepalive_seconds: 1, hold_seconds: 3, drain_seconds: 2 },
        system: { state_dir: join(dir, "state"), frr_config: join(dir, "frr.conf") },
        daemon: { reconcile_interval_ms: 300, socket: join(dir, "lbctl.sock") },
        observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
      }),
    );
    const health = { enabled: true, type: "tcp", interval_ms: 200, timeout_ms: 150, fail_after: 2, recover_after: 2 };
    writeFileSync(join(dir, "config.d", "web.yaml"), stringify({ services: [{ name: "web", ports: [PORT], mode: "dr", scheduler: "mh", backends: BACKENDS.map((address) => ({ address })), health }] }));
    writeFileSync(join(dir, "frr.conf"), "frr defaults traditional\n");
    const setup = await director.lbctl(["setup", "frr", "--config", join(dir, "config.yaml")]);
    expect(`${setup.exitCode} ${setup.stderr}`).toStartWith("0");
  }
  run(["chown", "-R", "frr:frr", runDir]);
  for (const name of ["router", ...directors.map((n) => `d${n}`)]) startFrr(name);
  const started = await Promise.all(directors.map((n) => startDaemon(join(folder(`d${n}`), "config.yaml"), join(folder(`d${n}`), "lbctl.sock"), { namespace: ns(`d${n}`) })));
  directors.forEach((n, i) => daemons.set(n, started[i]!));
}, 300_000);

afterAll(() => {
  for (const daemon of daemons.values()) daemon.signal("SIGKILL");
  for (const name of namespaces.keys()) killFrr(name);
  for (const namespace of namespaces.values()) namespace.destroy();
  runQuietly(["ip", "link", "del", BRIDGE]);
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

/** What FRR says on the router and director 1: sessions, the BGP table, lbctl's routes, the logs' ends. */
function frrState(): string {
  const vtysh = (name: string, command: string) => {
    try {
      return ns(name).exec(["vtysh", "--vty_socket", folder(name), "-c", command]);
    } catch (error) {
      return `(${(error as Error).message.split("\n")[0]})`;
    }
  };
  const tail = (file: string) => {
    try {
      return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
    } catch {
      return "(none)";
    }
  };
  return [
    `--- router: show bgp summary\n${vtysh("router", "show bgp summary")}`,
    `--- router: show ip bgp\n${vtysh("router", "show ip bgp")}`,
    `--- d1: show ip bgp\n${vtysh("d1", "show ip bgp")}`,
    `--- d1: show ip route kernel\n${vtysh("d1", "show ip route kernel")}`,
    `--- d1: ip route show proto 250\n${ns("d1").exec(["ip", "route", "show", "proto", "250"])}`,
    `--- d1 bgpd.log\n${tail(join(folder("d1"), "bgpd.log"))}`,
    `--- d1 zebra.log\n${tail(join(folder("d1"), "zebra.log"))}`,
    `--- router bgpd.log\n${tail(join(folder("router"), "bgpd.log"))}`,
  ].join("\n");
}

async function waitOrShow(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs, what);
  } catch (error) {
    const logs = directors.map((n) => `--- director ${n}:\n${(daemons.get(n)?.log() ?? "").slice(-2000)}`).join("\n");
    throw new Error(`${(error as Error).message}\nrouter next hops: ${nextHops().join(", ")}\n${frrState()}\n${logs}`);
  }
}

test("three directors announce the VIP: the router has three equal-cost next hops and flows reach all of them", async () => {
  await waitOrShow(() => nextHops().join() === allDirectors().join(), 60_000, "three next hops for the VIP on the router");
  const before = directors.map(connectionsPer);
  const answers = Array.from({ length: 24 }, () => request());
  expect(answers.filter((a) => a !== "b1" && a !== "b2")).toEqual([]);
  const used = directors.filter((n, i) => connectionsPer(n) > before[i]!);
  expect(used.length).toBeGreaterThanOrEqual(2);
  // From the daemon (a loaded guest may make the CLI give up on the socket and read the kernel itself: ask again).
  let status: { daemon?: boolean; bgp?: unknown } = {};
  await waitOrShow(async () => {
    status = JSON.parse((await ns("d1").lbctl(["status", "--json", "--config", join(folder("d1"), "config.yaml")])).stdout);
    return status.daemon === true;
  }, 30_000, "lbctl status from director 1's daemon");
  if (status.bgp === undefined) throw new Error(`status has no bgp object; director 1's daemon said:\n${daemons.get(1)!.log().slice(-3000)}`);
  expect(status.bgp).toEqual({ announced: [VIP], withdrawn: [] });
  expect(daemons.get(1)!.log()).toContain(`audit=bgp_announced vip=${VIP} reason=serving`);
}, 200_000);

test("a director whose backends all fail withdraws, and the router drops it; they recover and it returns", async () => {
  // Only director 3 loses its path to the backends: its health checks fail, the others' do not.
  for (const backend of BACKENDS) ns("d3").exec(["ip", "route", "add", "blackhole", `${backend}/32`]);
  await waitOrShow(() => nextHops().join() === [directorAddress(1), directorAddress(2)].join(), 30_000, "the router to drop director 3");
  // The audit line is written after the daemon's turn and read from its pipe: it may follow the router's change.
  const withdrawn = () => daemons.get(3)!.log().split("\n").filter((line) => line.includes(`audit=bgp_withdrawn vip=${VIP}`));
  await waitOrShow(() => withdrawn().length > 0, 15_000, "director 3's bgp_withdrawn audit record");
  expect(withdrawn().join("\n")).toContain('reason="no backend with a weight above 0"');
  const answers = Array.from({ length: 12 }, () => request());
  expect(answers.filter((a) => a !== "b1" && a !== "b2")).toEqual([]);
  for (const backend of BACKENDS) ns("d3").exec(["ip", "route", "del", "blackhole", `${backend}/32`]);
  await waitOrShow(() => nextHops().join() === allDirectors().join(), 30_000, "director 3 back on the router");
}, 90_000);

test("SIGTERM: lbctl withdraws first, waits its drain, and no request fails; a SIGKILLed director is dropped by hold time", async () => {
  let failures = 0;
  let requests = 0;
  let stop = false;
  const load = (async () => {
    while (!stop) {
      const answer = request();
      requests++;
      if (!(answer === "b1" || answer === "b2")) failures++;
      await Bun.sleep(20);
    }
  })();
  const stopped = await daemons.get(2)!.stop("SIGTERM");
  expect(stopped.exitCode).toBe(0);
  // It waited bgp.drain_seconds (2 s) after withdrawing, and the router had dropped it by then.
  expect(stopped.ms).toBeGreaterThanOrEqual(2000);
  expect(nextHops()).not.toContain(directorAddress(2));
  await Bun.sleep(1000);
  stop = true;
  await load;
  expect(requests).toBeGreaterThan(5);
  expect(failures).toBe(0);

  // A host failure: all of director 3's processes killed at once; the router's hold time (3 s) drops it.
  daemons.get(3)!.signal("SIGKILL");
  killFrr("d3");
  await waitOrShow(() => nextHops().join() === directorAddress(1), 15_000, "the router to keep only director 1");
  expect(request()).toMatch(/^b[12]$/);
}, 90_000);
