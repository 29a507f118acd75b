/**
 * A BGP ECMP fleet in the kernel lab, for tests/lab/bgp.test.ts and bench/bgp-failover.ts: three director
 * namespaces, each running FRR (zebra + bgpd, config written by `lbctl setup frr`) and the lbctl daemon with the same
 * config (`dr`, `mh`, TCP checks every 200 ms); a router namespace running bgpd with ECMP (`maximum-paths`, BGP timers
 * 1/3 s); two direct-routing backends running a line-echo server that logs every connection and line
 * (bgp-line-echo.ts); the routers' LAN on one bridge; a client behind the router with several addresses.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { stringify } from "yaml";
import { run, runQuietly } from "./exec.ts";
import { requireLab } from "./guard.ts";
import { forEachJsonLine } from "./lines.ts";
import { IpvsNamespace } from "./ipvs-namespace.ts";
import { startDaemon, waitFor, type RunningDaemon } from "./lbctl-daemon.ts";
import type { EchoRecord } from "./bgp-line-echo.ts";
import type { ClientRecord, FlowReport } from "./bgp-flow-client.ts";

export const FLEET_VIP = "10.215.0.100";
export const FLEET_PORT = 8080;
export const ROUTER_LAN = "10.213.0.1";
export const FLEET_BACKENDS = ["10.213.0.51", "10.213.0.52"];
/** The client's addresses: `mh` hashes the client's address, so flows from several spread over the backends. */
export const CLIENT_ADDRESSES = ["10.214.0.2", "10.214.0.3", "10.214.0.4", "10.214.0.5", "10.214.0.6", "10.214.0.7", "10.214.0.8", "10.214.0.9"];
export const DIRECTORS = [1, 2, 3] as const;
/** The lab's BGP timers (keepalive / hold, seconds), on the router and the directors. */
export const KEEPALIVE_SECONDS = 1;
export const HOLD_SECONDS = 3;
export const DRAIN_SECONDS = 2;
export const RECONCILE_INTERVAL_MS = 300;
export const HEALTH = { enabled: true, type: "tcp", interval_ms: 200, timeout_ms: 150, fail_after: 2, recover_after: 2 } as const;

const BRIDGE = "lbbgp-br";
const here = import.meta.dir;

export const directorAddress = (n: number) => `10.213.0.1${n}`;
export const allDirectors = () => DIRECTORS.map(directorAddress).sort();

/** One IPVS connection entry (`ipvsadm -Lnc`): the client's address:port and the backend it was sent to. */
export interface IpvsConnection {
  client: string;
  backend: string;
  state: string;
}

/** The wall-clock time (ms) of each of a daemon's text-log lines that contain `needle`. */
export function logTimes(log: string, needle: string): number[] {
  return log
    .split("\n")
    .filter((line) => line.includes(needle))
    .map((line) => Date.parse(line.slice(0, line.indexOf(" "))))
    .filter(Number.isFinite);
}

/** Long-lived flows from the client (bgp-flow-client.ts), driven through its stdin. */
export class FlowClient {
  readonly failures: FlowReport[] = [];
  #reports: { at: number; flows: FlowReport[] }[] = [];
  #ready: FlowReport[] | undefined;
  #error: string | undefined;

  private constructor(private readonly child: Subprocess<"pipe", "pipe", "pipe">) {
    void forEachJsonLine<ClientRecord>(child.stdout, (record) => {
      if (record.event === "ready") this.#ready = record.flows;
      else if (record.event === "failed") this.failures.push(record.flow);
      else if (record.event === "report") this.#reports.push(record);
      else this.#error = record.message;
    });
    void new Response(child.stderr).text().then((text) => {
      if (text.trim()) this.#error = `${this.#error ?? ""}${text.trim()}`;
    });
  }

  static async start(namespace: IpvsNamespace, flows: number, intervalMs: number): Promise<FlowClient> {
    const argv = namespace.command([process.execPath, join(here, "bgp-flow-client.ts"), FLEET_VIP, String(FLEET_PORT), String(flows), String(intervalMs), CLIENT_ADDRESSES.join(",")]);
    const client = new FlowClient(Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
    await waitFor(() => client.#ready !== undefined || client.#error !== undefined || client.child.exitCode !== null, 60_000, "the long-lived flows to open");
    if (!client.#ready) throw new Error(`the flow client failed: ${client.#error ?? `exit ${client.child.exitCode}`}`);
    return client;
  }

  /** The flows as they opened: each one's client address:port and backend. */
  get opened(): FlowReport[] {
    return this.#ready ?? [];
  }

  /** Every flow now: lines sent and echoed, the longest wait for an echo, a failure if any. */
  async report(): Promise<FlowReport[]> {
    const count = this.#reports.length;
    this.child.stdin.write("report\n");
    await this.child.stdin.flush();
    await waitFor(() => this.#reports.length > count || this.child.exitCode !== null, 30_000, "the flow client's report");
    const last = this.#reports.at(-1);
    if (this.#reports.length === count || !last) throw new Error(`the flow client exited: ${this.#error ?? this.child.exitCode}`);
    return last.flows;
  }

  /** Closes the flows and returns their last report. */
  async stop(): Promise<FlowReport[]> {
    const count = this.#reports.length;
    this.child.stdin.write("stop\n");
    await this.child.stdin.flush();
    await Promise.race([this.child.exited, Bun.sleep(30_000)]);
    this.child.kill("SIGKILL");
    if (this.#reports.length === count) throw new Error(`the flow client gave no last report: ${this.#error ?? this.child.exitCode}`);
    return this.#reports.at(-1)!.flows;
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

export class BgpFleet {
  readonly #namespaces = new Map<string, IpvsNamespace>();
  readonly #daemons = new Map<number, RunningDaemon>();
  readonly #backendServers: Subprocess[] = [];
  readonly #backendLog: EchoRecord[] = [];
  #runDir = "";

  private constructor() {}

  /** Builds the whole fleet and waits until every daemon answers; the router's routes come later (waitForAll). */
  static async start(): Promise<BgpFleet> {
    requireLab();
    const fleet = new BgpFleet();
    try {
      await fleet.#build();
    } catch (error) {
      fleet.destroy();
      throw error;
    }
    return fleet;
  }

  ns(name: string): IpvsNamespace {
    const namespace = this.#namespaces.get(name);
    if (!namespace) throw new Error(`no namespace ${name}`);
    return namespace;
  }

  folder(name: string): string {
    return join(this.#runDir, name);
  }

  configFile(n: number): string {
    return join(this.folder(`d${n}`), "config.yaml");
  }

  daemon(n: number): RunningDaemon {
    const daemon = this.#daemons.get(n);
    if (!daemon) throw new Error(`no daemon on director ${n}`);
    return daemon;
  }

  /** The router's next hops for the VIP, sorted. */
  nextHops(): string[] {
    const routes = JSON.parse(this.ns("router").exec(["ip", "-j", "route", "show", `${FLEET_VIP}/32`])) as { gateway?: string; nexthops?: { gateway: string }[] }[];
    const route = routes[0];
    if (!route) return [];
    return (route.nexthops?.map((hop) => hop.gateway) ?? (route.gateway ? [route.gateway] : [])).sort();
  }

  /** Why the router last reset its session with a director: FRR's reset and notification fields, as JSON. */
  lastReset(n: number): string {
    const json = JSON.parse(this.vtysh("router", `show bgp neighbors ${directorAddress(n)} json`)) as Record<string, Record<string, unknown>>;
    const neighbor = json[directorAddress(n)] ?? {};
    return JSON.stringify(Object.fromEntries(Object.entries(neighbor).filter(([key]) => /reset|notification|error/i.test(key))));
  }

  vtysh(name: string, command: string): string {
    // A starved emulated guest can take longer than run()'s default 30 s to start vtysh and get bgpd's answer.
    return this.ns(name).exec(["vtysh", "--vty_socket", this.folder(name), "-c", command], { timeoutMs: 90_000 });
  }

  /** One short request from the client through the VIP: the backend's greeting, or the error. */
  request(source = CLIENT_ADDRESSES[0]!): string {
    try {
      // Generous timeouts: a loaded emulated guest is slow. -t: once its empty input has ended, socat waits this long
      // for the answer.
      return this.ns("client")
        .exec(["socat", "-t10", "-T10", "-", `TCP:${FLEET_VIP}:${FLEET_PORT},bind=${source},connect-timeout=5`], { input: "", timeoutMs: 20_000 })
        .trim();
    } catch (error) {
      return `failed: ${(error as Error).message.split("\n")[0]}`;
    }
  }

  /** Connections a director's IPVS has scheduled (`ipvsadm -Ln --stats`, the service's Conns column). */
  connectionsPer(n: number): number {
    const text = this.ns(`d${n}`).ipvsadm(["-L", "-n", "--stats"]);
    const line = text.split("\n").find((l) => l.startsWith(`TCP  ${FLEET_VIP}:${FLEET_PORT}`));
    return line ? Number(line.trim().split(/\s+/)[2]) : 0;
  }

  /** A director's IPVS connection entries for the VIP (`ipvsadm -Lnc`). */
  ipvsConnections(n: number): IpvsConnection[] {
    const text = this.ns(`d${n}`).ipvsadm(["-L", "-n", "-c"]);
    const entries: IpvsConnection[] = [];
    for (const line of text.split("\n")) {
      // pro expire state source virtual destination
      const fields = line.trim().split(/\s+/);
      if (fields[0] !== "TCP" || fields[4] !== `${FLEET_VIP}:${FLEET_PORT}`) continue;
      entries.push({ state: fields[2]!, client: fields[3]!, backend: fields[5]!.split(":")[0]! });
    }
    return entries;
  }

  /** Which directors' IPVS hold each client address:port (ESTABLISHED entries), with the backend each chose. */
  carriers(directors: readonly number[]): Map<string, { director: number; entry: IpvsConnection }[]> {
    const byClient = new Map<string, { director: number; entry: IpvsConnection }[]>();
    for (const n of directors) {
      for (const entry of this.ipvsConnections(n)) {
        if (entry.state !== "ESTABLISHED") continue;
        byClient.set(entry.client, [...(byClient.get(entry.client) ?? []), { director: n, entry }]);
      }
    }
    return byClient;
  }

  /** What the backends logged (bgp-line-echo.ts): every connection accepted, line received and close. */
  backendLog(): readonly EchoRecord[] {
    return this.#backendLog;
  }

  startFlows(flows: number, intervalMs: number): Promise<FlowClient> {
    return FlowClient.start(this.ns("client"), flows, intervalMs);
  }

  /**
   * Starts (again) the lbctl daemon of director n, as systemd would after it stopped. A starved emulated guest can
   * take more than a minute to start the binary while the rest of the fleet runs: up to 3 minutes are allowed.
   */
  async startDaemon(n: number): Promise<RunningDaemon> {
    const daemon = await startDaemon(this.configFile(n), join(this.folder(`d${n}`), "lbctl.sock"), { namespace: this.ns(`d${n}`), timeoutMs: 180_000 });
    this.#daemons.set(n, daemon);
    return daemon;
  }

  /**
   * A host failure without its power going: SIGKILL to every process of director n's namespace at once (lbctl,
   * zebra, bgpd). Returns the killed processes' names. The namespace's kernel lives on: it closes bgpd's TCP session
   * (the router then drops the director at once, without waiting for the hold time) and its IPVS table and routes
   * stay.
   */
  killAll(n: number): { pid: number; name: string }[] {
    const pids = run(["ip", "netns", "pids", this.ns(`d${n}`).name]).split(/\s+/).filter(Boolean).map(Number);
    const processes = pids.map((pid) => {
      try {
        return { pid, name: readFileSync(`/proc/${pid}/comm`, "utf8").trim() };
      } catch {
        return { pid, name: "" };
      }
    });
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    return processes;
  }

  /**
   * A power loss: director n's link goes down first (nothing it would send, a TCP FIN closing bgpd's session included,
   * reaches the router any more), then every process of it is killed. The router notices only when its hold time runs
   * out. Returns the killed processes' names.
   */
  powerOff(n: number): { pid: number; name: string }[] {
    run(["ip", "link", "set", `lbbgp-d${n}`, "down"]);
    return this.killAll(n);
  }

  /** What FRR says on the router and director 1: sessions, the BGP table, lbctl's routes, the logs' ends. */
  frrState(): string {
    const vtysh = (name: string, command: string) => {
      try {
        return this.vtysh(name, command);
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
      `--- d1: ip route show proto 250\n${this.ns("d1").exec(["ip", "route", "show", "proto", "250"])}`,
      `--- d1 bgpd.log\n${tail(join(this.folder("d1"), "bgpd.log"))}`,
      `--- router bgpd.log\n${tail(join(this.folder("router"), "bgpd.log"))}`,
    ].join("\n");
  }

  /** waitFor, with the router's routes, FRR's state and the daemons' logs in the error. */
  async waitOrShow(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
    try {
      return await waitFor(condition, timeoutMs, what);
    } catch (error) {
      const logs = [...this.#daemons].map(([n, daemon]) => `--- director ${n}:\n${daemon.log().slice(-2000)}`).join("\n");
      let hops = "";
      try {
        hops = this.nextHops().join(", ");
      } catch (failure) {
        hops = (failure as Error).message;
      }
      throw new Error(`${(error as Error).message}\nrouter next hops: ${hops}\n${this.frrState()}\n${logs}`);
    }
  }

  destroy(): void {
    for (const daemon of this.#daemons.values()) daemon.signal("SIGKILL");
    for (const server of this.#backendServers) server.kill("SIGKILL");
    // Destroying a namespace kills every process inside (FRR's daemons too).
    for (const namespace of this.#namespaces.values()) namespace.destroy();
    runQuietly(["ip", "link", "del", BRIDGE]);
    if (this.#runDir) rmSync(this.#runDir, { recursive: true, force: true });
  }

  #create(name: string): IpvsNamespace {
    const namespace = IpvsNamespace.create();
    this.#namespaces.set(name, namespace);
    return namespace;
  }

  #addToBridge(namespace: IpvsNamespace, hostSide: string, address: string): void {
    run(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", namespace.name]);
    run(["ip", "link", "set", hostSide, "master", BRIDGE, "up"]);
    namespace.exec(["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
    namespace.exec(["ip", "link", "set", "eth0", "up"]);
  }

  /** zebra and bgpd inside `name`, with their files in its folder (owned by frr, which they run as). */
  #startFrr(name: string): void {
    const dir = this.folder(name);
    const common = ["-d", "-u", "frr", "-g", "frr", "-f", join(dir, "frr.conf"), "-z", join(dir, "zserv.api"), "--vty_socket", dir, "-P", "0"];
    this.ns(name).exec(["/usr/lib/frr/zebra", ...common, "-i", join(dir, "zebra.pid"), "--log", `file:${join(dir, "zebra.log")}`]);
    this.ns(name).exec(["/usr/lib/frr/bgpd", ...common, "-i", join(dir, "bgpd.pid"), "--log", `file:${join(dir, "bgpd.log")}`]);
  }

  async #build(): Promise<void> {
    this.#runDir = mkdtempSync("/run/lbctl-bgp-");
    run(["ip", "link", "add", BRIDGE, "type", "bridge"]);
    run(["ip", "link", "set", BRIDGE, "up"]);

    // The router: the LAN on the bridge, the client on a link of its own, ECMP hashing on ports.
    const router = this.#create("router");
    this.#addToBridge(router, "lbbgp-r", ROUTER_LAN);
    router.enter(() => writeFileSync("/proc/sys/net/ipv4/fib_multipath_hash_policy", "1\n"));
    const client = this.#create("client");
    run(["ip", "link", "add", "lbbgp-c", "netns", router.name, "type", "veth", "peer", "name", "eth0", "netns", client.name]);
    router.exec(["ip", "addr", "add", "10.214.0.1/24", "dev", "lbbgp-c"]);
    router.exec(["ip", "link", "set", "lbbgp-c", "up"]);
    for (const address of CLIENT_ADDRESSES) client.exec(["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
    client.exec(["ip", "link", "set", "eth0", "up"]);
    client.exec(["ip", "route", "add", "default", "via", "10.214.0.1"]);
    mkdirSync(this.folder("router"));
    writeFileSync(
      join(this.folder("router"), "frr.conf"),
      [
        "frr defaults traditional",
        "router bgp 65000",
        " bgp router-id 10.213.0.1",
        " bgp log-neighbor-changes",
        " no bgp ebgp-requires-policy",
        ` timers bgp ${KEEPALIVE_SECONDS} ${HOLD_SECONDS}`,
        ...DIRECTORS.map((n) => ` neighbor ${directorAddress(n)} remote-as 65001`),
        " address-family ipv4 unicast",
        "  maximum-paths 8",
        " exit-address-family",
        "exit",
        "",
      ].join("\n"),
    );

    // Direct-routing backends: the VIP on lo, never answered in ARP, replies straight to the client through the router.
    const listening: Promise<void>[] = [];
    FLEET_BACKENDS.forEach((address, i) => {
      const name = `b${i + 1}`;
      const backend = this.#create(name);
      this.#addToBridge(backend, `lbbgp-b${i + 1}`, address);
      backend.exec(["ip", "addr", "add", `${FLEET_VIP}/32`, "dev", "lo"]);
      backend.exec(["ip", "route", "add", "default", "via", ROUTER_LAN]);
      backend.enter(() => {
        for (const key of ["all", "eth0"]) {
          writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_ignore`, "1\n");
          writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_announce`, "2\n");
        }
      });
      const server = Bun.spawn(backend.command([process.execPath, join(here, "bgp-line-echo.ts"), name, String(FLEET_PORT)]), { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
      this.#backendServers.push(server);
      let ready: () => void = () => {};
      listening.push(new Promise((resolve) => (ready = resolve)));
      void forEachJsonLine<EchoRecord>(server.stdout, (record) => {
        if (record.event === "listening") ready();
        else this.#backendLog.push(record);
      });
    });

    for (const n of DIRECTORS) {
      const name = `d${n}`;
      const director = this.#create(name);
      this.#addToBridge(director, `lbbgp-d${n}`, directorAddress(n));
      director.exec(["ip", "route", "add", "default", "via", ROUTER_LAN]);
      const dir = this.folder(name);
      mkdirSync(join(dir, "config.d"), { recursive: true });
      writeFileSync(
        join(dir, "config.yaml"),
        stringify({
          node: { name: `lb-${n}` },
          network: { frontend: { interface: "eth0", vip: FLEET_VIP } },
          bgp: {
            enabled: true,
            local_asn: 65001,
            router_id: directorAddress(n),
            neighbors: [{ address: ROUTER_LAN, remote_asn: 65000 }],
            keepalive_seconds: KEEPALIVE_SECONDS,
            hold_seconds: HOLD_SECONDS,
            drain_seconds: DRAIN_SECONDS,
          },
          system: { state_dir: join(dir, "state"), frr_config: join(dir, "frr.conf") },
          daemon: { reconcile_interval_ms: RECONCILE_INTERVAL_MS, socket: join(dir, "lbctl.sock") },
          observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
        }),
      );
      writeFileSync(
        join(dir, "config.d", "web.yaml"),
        stringify({ services: [{ name: "web", ports: [FLEET_PORT], mode: "dr", scheduler: "mh", backends: FLEET_BACKENDS.map((address) => ({ address })), health: HEALTH }] }),
      );
      writeFileSync(join(dir, "frr.conf"), "frr defaults traditional\n");
      const setup = await director.lbctl(["setup", "frr", "--config", join(dir, "config.yaml")]);
      if (setup.exitCode !== 0) throw new Error(`lbctl setup frr on director ${n} exited ${setup.exitCode}: ${setup.stderr}`);
      // IPVS schedules a mid-flow segment of a flow it never saw (a flow the routers moved here) instead of letting
      // the local stack reset it: what `lbctl setup sysctl` sets with bgp.enabled.
      director.enter(() => {
        writeFileSync("/proc/sys/net/ipv4/vs/sloppy_tcp", "1\n");
        writeFileSync("/proc/sys/net/ipv4/vs/sloppy_sctp", "1\n");
      });
    }
    run(["chown", "-R", "frr:frr", this.#runDir]);
    for (const name of ["router", ...DIRECTORS.map((n) => `d${n}`)]) this.#startFrr(name);
    await Promise.race([Promise.all(listening), Bun.sleep(60_000).then(() => Promise.reject(new Error("the backends' echo servers did not listen within 60 s")))]);
    await Promise.all(DIRECTORS.map((n) => this.startDaemon(n)));
  }
}
