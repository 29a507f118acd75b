/**
 * Connection sync across a failover (ha.connection_sync): two director namespaces on one bridge, each with its own
 * lbctl daemon and IPVS table, a `dr` service to a backend that echoes lines, and a client that keeps one TCP
 * connection open. The VIP moves by hand (`ip addr`, as a VRRP daemon would move it) and the client's neighbour entry
 * follows it (as a gratuitous ARP would make it). With sync, the same connection goes on through the new master;
 * with sync turned off (a reload), the same move resets a connection: the control that proves the first half.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { IpvsNamespace } from "./support/ipvs-namespace.ts";
import { startDaemon, waitFor, type RunningDaemon } from "./support/lbctl-daemon.ts";
import { requireLab, run, runQuietly } from "./support/index.ts";

const VIP = "10.212.0.100";
const BACKEND = "10.212.0.50";
const CLIENT = "10.212.0.2";
const PORT = 7000;
const SYNC_ID = 60;
const BRIDGE = "lbcs-br";
const directors = [1, 2] as const;

let runDir = "";
const namespaces = new Map<string, IpvsNamespace>();
const daemons = new Map<number, RunningDaemon>();

const ns = (name: string): IpvsNamespace => {
  const namespace = namespaces.get(name);
  if (!namespace) throw new Error(`no namespace ${name}`);
  return namespace;
};
const director = (n: number) => ns(`d${n}`);
const configFile = (n: number) => join(runDir, `d${n}`, "config.yaml");

/** Director n's main file; `sync` turns ha.connection_sync on or off. */
function writeConfig(n: number, sync: boolean): void {
  const dir = join(runDir, `d${n}`);
  writeFileSync(
    configFile(n),
    stringify({
      node: { name: `lb-${n}`, role: n === 1 ? "primary" : "secondary" },
      network: { frontend: { interface: "eth0", vip: VIP } },
      ha: { connection_sync: { enabled: sync, sync_id: SYNC_ID } },
      system: { state_dir: join(dir, "state") },
      daemon: { reconcile_interval_ms: 300, socket: join(dir, "lbctl.sock"), standby: "warm" },
      observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
    }),
  );
}

/** `ipvsadm -L --daemon` of director n: the roles its kernel runs, as "master 60" / "backup 60". */
function syncRoles(n: number): string[] {
  const text = director(n).ipvsadm(["-L", "--daemon"]);
  return [...text.matchAll(/(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`).sort();
}

/** The connections in director n's table, as `ipvsadm -Lnc` lists them. */
const connections = (n: number) => director(n).ipvsadm(["-L", "-n", "-c"]);

/** One long-lived TCP connection from the client namespace, through socat: a line out, its echo back. */
class LineClient {
  readonly #child: Subprocess<"pipe", "pipe", "pipe">;
  readonly #reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  #buffer = "";

  constructor() {
    this.#child = Bun.spawn(ns("client").command(["socat", "-", `TCP:${VIP}:${PORT}`]), { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    this.#reader = this.#child.stdout.getReader();
  }

  /** The source port, from the client's socket table once connected. */
  sourcePort(): number | undefined {
    const line = ns("client").exec(["ss", "-Htn", "state", "established", "dst", `${VIP}:${PORT}`]).trim();
    const match = /:(\d+)\s+\S+:\d+\s*$/.exec(line.split("\n")[0] ?? "");
    return match ? Number(match[1]) : undefined;
  }

  /** Sends `line` and resolves with the next line that comes back, or undefined when the connection ended first. */
  async exchange(line: string, timeoutMs = 10_000): Promise<string | undefined> {
    this.#child.stdin.write(`${line}\n`);
    this.#child.stdin.flush();
    const deadline = performance.now() + timeoutMs;
    while (!this.#buffer.includes("\n")) {
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      const next = await Promise.race([this.#reader.read(), Bun.sleep(left).then(() => "timeout" as const)]);
      if (next === "timeout") return undefined;
      if (next.done) return undefined;
      this.#buffer += new TextDecoder().decode(next.value);
    }
    const end = this.#buffer.indexOf("\n");
    const answer = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end + 1);
    return answer;
  }

  get exited(): Promise<number> {
    return this.#child.exited;
  }

  close(): void {
    this.#child.kill("SIGKILL");
  }
}

/** Moves the VIP from director `from` to director `to`, and points the client at `to` as a gratuitous ARP would. */
function moveVip(from: number, to: number): void {
  director(from).exec(["ip", "addr", "del", `${VIP}/32`, "dev", "eth0"]);
  director(to).exec(["ip", "addr", "add", `${VIP}/32`, "dev", "eth0"]);
  const mac = (JSON.parse(director(to).exec(["ip", "-j", "link", "show", "eth0"])) as { address: string }[])[0]!.address;
  ns("client").exec(["ip", "neigh", "replace", VIP, "lladdr", mac, "dev", "eth0", "nud", "permanent"]);
}

function addToBridge(namespace: IpvsNamespace, hostSide: string, address: string): void {
  run(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", namespace.name]);
  run(["ip", "link", "set", hostSide, "master", BRIDGE, "up"]);
  namespace.exec(["ip", "addr", "add", `${address}/24`, "dev", "eth0"]);
  namespace.exec(["ip", "link", "set", "eth0", "up"]);
}

beforeAll(async () => {
  requireLab();
  runDir = mkdtempSync("/run/lbctl-sync-");
  // No IGMP querier on this bridge: without snooping it floods the sync multicast to every port.
  run(["ip", "link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0"]);
  run(["ip", "link", "set", BRIDGE, "up"]);
  for (const n of directors) {
    const namespace = IpvsNamespace.create();
    namespaces.set(`d${n}`, namespace);
    addToBridge(namespace, `lbcs-d${n}`, `10.212.0.1${n}`);
    mkdirSync(join(runDir, `d${n}`));
    writeConfig(n, true);
    mkdirSync(join(runDir, `d${n}`, "config.d"));
    writeFileSync(
      join(runDir, `d${n}`, "config.d", "echo.yaml"),
      stringify({ services: [{ name: "echo", ports: [PORT], mode: "dr", scheduler: "rr", backends: [{ address: BACKEND }] }] }),
    );
  }
  const backend = IpvsNamespace.create();
  namespaces.set("backend", backend);
  addToBridge(backend, "lbcs-b", BACKEND);
  // Direct routing: the backend owns the VIP on lo, answers from it, and never answers ARP for it.
  backend.exec(["ip", "addr", "add", `${VIP}/32`, "dev", "lo"]);
  backend.enter(() => {
    for (const key of ["all", "eth0"]) {
      writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_ignore`, "1\n");
      writeFileSync(`/proc/sys/net/ipv4/conf/${key}/arp_announce`, "2\n");
    }
  });
  Bun.spawn(backend.command(["socat", `TCP-LISTEN:${PORT},fork,reuseaddr`, "EXEC:cat"]), { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const client = IpvsNamespace.create();
  namespaces.set("client", client);
  addToBridge(client, "lbcs-c", CLIENT);
  director(1).exec(["ip", "addr", "add", `${VIP}/32`, "dev", "eth0"]);
  const started = await Promise.all(directors.map((n) => startDaemon(configFile(n), join(runDir, `d${n}`, "lbctl.sock"), { namespace: director(n) })));
  directors.forEach((n, i) => daemons.set(n, started[i]!));
  await waitFor(() => backend.exec(["ss", "-Hltn", `sport = :${PORT}`]).trim() !== "", 15_000, "the backend's echo server");
}, 120_000);

afterAll(() => {
  for (const daemon of daemons.values()) daemon.signal("SIGKILL");
  for (const namespace of namespaces.values()) namespace.destroy();
  runQuietly(["ip", "link", "del", BRIDGE]);
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

/** waitFor, with both daemons' logs in the error. */
async function waitOrShow(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs, what);
  } catch (error) {
    const logs = directors.map((n) => `--- director ${n}:\n${(daemons.get(n)?.log() ?? "").slice(-3000)}`).join("\n");
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

test("a long-lived TCP connection survives the VIP moving to the other director; the sync roles follow the VIP", async () => {
  const role = (name: string) => `${name} eth0 ${SYNC_ID}`;
  await waitOrShow(() => syncRoles(1).join() === [role("backup"), role("master")].join(), 15_000, "director 1 (holding the VIP): master and backup");
  await waitOrShow(() => syncRoles(2).join() === role("backup"), 15_000, "director 2 (standby): backup only");
  const status = JSON.parse((await director(2).lbctl(["status", "--json", "--config", configFile(2)])).stdout);
  expect(status.connection_sync).toEqual({ enabled: true, interface: "eth0", sync_id: SYNC_ID, master: false, backup: true });

  const client = new LineClient();
  try {
    expect(await client.exchange("one")).toBe("one");
    const port = client.sourcePort();
    expect(port).toBeGreaterThan(0);
    const entry = new RegExp(`TCP\\s+\\S+\\s+ESTABLISHED\\s+${CLIENT.replaceAll(".", "\\.")}:${port}\\s+${VIP.replaceAll(".", "\\.")}:${PORT}\\s+${BACKEND.replaceAll(".", "\\.")}:${PORT}`);
    expect(connections(1)).toMatch(entry);
    // The master sends established connections in batches flushed at least every 2 s: wait for the peer to have it.
    await waitOrShow(() => entry.test(connections(2)), 15_000, "the connection synced into director 2's table");

    moveVip(1, 2);
    expect(await client.exchange("two")).toBe("two");
    expect(await client.exchange("three")).toBe("three");
    // The roles follow the VIP within a reconcile interval or so.
    await waitOrShow(() => syncRoles(2).join() === [role("backup"), role("master")].join(), 15_000, "director 2 (now holding the VIP): master and backup");
    await waitOrShow(() => syncRoles(1).join() === role("backup"), 15_000, "director 1 (now standby): backup only");
    expect(daemons.get(2)!.log()).toMatch(/audit=connection_sync_started role=master interface=eth0 sync_id=60 reason="VIP held"/);
    expect(daemons.get(1)!.log()).toMatch(/audit=connection_sync_stopped role=master interface=eth0 sync_id=60 reason="VIP released"/);
  } finally {
    client.close();
  }
}, 90_000);

test("control: with sync turned off by a reload (its roles stopped), the same move resets the connection", async () => {
  for (const n of directors) {
    writeConfig(n, false);
    daemons.get(n)!.signal("SIGHUP");
  }
  await waitOrShow(() => syncRoles(1).length === 0 && syncRoles(2).length === 0, 15_000, "both directors' sync daemons stopped");
  const client = new LineClient();
  try {
    expect(await client.exchange("four")).toBe("four");
    moveVip(2, 1);
    // Director 1 has no entry for this connection: its own TCP stack answers the next segment with a reset.
    expect(await client.exchange("five", 5_000)).toBeUndefined();
    expect(await Promise.race([client.exited, Bun.sleep(10_000).then(() => "running")])).not.toBe("running");
  } finally {
    client.close();
  }
}, 60_000);
