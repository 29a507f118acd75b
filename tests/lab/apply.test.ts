/**
 * lbctl apply / status / disable against a real kernel, with `ipvsadm -Sn` as the independent oracle and real
 * traffic through namespaces. Each test runs lbctl and ipvsadm in a network namespace of its own, so each starts
 * from an empty IPVS table. Runs inside the lab guest (npm test does that).
 */

import { afterEach, describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { createLabNetwork, ipvsNamespacePerTest, type LabNetwork, startTcpNameServer, tcpRequest } from "./support/index.ts";

const VIP_A = "10.201.0.1";
const VIP_B = "10.201.0.2";
const VIP_6 = "fd00:201::1";
const TRAFFIC_TIMEOUT_MS = 120_000;

const perTest = ipvsNamespacePerTest();
const ipvsadm = (args: string[]) => perTest.current().ipvsadm(args);
const ipvsadmSave = () => perTest.current().ipvsadmSave();
const runLbctl = (args: string[]) => perTest.current().lbctl(args);
/** A client and backends whose director is the test's namespace. */
const labNetwork = (backends: number) => createLabNetwork({ backends, director: perTest.current() });

let tree: ConfigTree | undefined;
let network: LabNetwork | undefined;

afterEach(() => {
  network?.destroy();
  network = undefined;
  tree?.remove();
  tree = undefined;
});

type Service = Record<string, unknown>;

/** A config tree whose state and socket live in the test's own folder. */
function writeConfig(services: Service[], main: Record<string, unknown> = {}): ConfigTree {
  tree ??= configTree();
  const t = tree;
  t.write(
    "config.yaml",
    stringify({
      node: { name: "lab" },
      network: { frontend: { vip: VIP_A } },
      system: { state_dir: t.path("state") },
      daemon: { socket: t.path("lbctl.sock") },
      ...main,
    }),
  );
  t.write("config.d/services.yaml", stringify({ services }));
  return t;
}

async function apply(...flags: string[]) {
  const run = await runLbctl(["apply", "--json", ...flags, "--config", tree!.main]);
  let body: any;
  try {
    body = JSON.parse(run.stdout);
  } catch {
    throw new Error(`apply printed no JSON (exit ${run.exitCode}): ${run.stdout}\n${run.stderr}`);
  }
  return { exitCode: run.exitCode, body, stderr: run.stderr };
}

/** The service's total connection count from `ipvsadm -Ln --stats --exact`, polled until `accept` (the kernel's estimator folds counters in every ~2 s). */
async function serviceConnections(endpoint: string, accept: (count: number) => boolean): Promise<number> {
  let count = -1;
  for (let attempt = 0; attempt < 20; attempt++) {
    const line = ipvsadm(["-Ln", "--stats", "--exact", "-t", endpoint]).split("\n").find((l) => l.includes(endpoint));
    count = Number(line?.trim().split(/\s+/)[2] ?? -1);
    if (accept(count)) return count;
    await Bun.sleep(500);
  }
  return count;
}

const ops = (body: any) => body.changes.map((c: any) => `${c.op} ${c.service}${c.destination ? ` ${c.destination}` : ""}`);

const FULL: Service[] = [
  { name: "web", ports: [80, 443], scheduler: "wrr", backends: [{ address: "10.1.1.2", weight: 3 }, { address: "10.1.2.2", weight: 0 }] },
  { name: "dns", protocol: "udp", ports: [53], scheduler: "rr", backends: [{ address: "10.1.1.2" }, { address: "10.1.2.2", port: 5353 }] },
  { name: "range", vip: VIP_B, ports: ["8000-8001"], port_ranges: [{ start: 9000, end: 9000 }], scheduler: "lc", backends: [{ address: "10.1.1.2" }] },
  { name: "sticky", vip: VIP_B, ports: [22], persistence: { timeout_seconds: 600 }, backends: [{ address: "10.1.1.2" }] },
  { name: "direct", vip: VIP_B, ports: [25], mode: "dr", backends: [{ address: "10.1.1.2" }] },
  { name: "tunnel", vip: VIP_B, ports: [110], mode: "tun", scheduler: "sh", backends: [{ address: "10.1.2.2" }] },
  { name: "six", vip: VIP_6, ports: [80], scheduler: "mh", backends: [{ address: "fd00:1::2", weight: 2 }] },
];

const FULL_RULES = [
  `-A -t ${VIP_A}:443 -s wrr`,
  `-A -t ${VIP_A}:80 -s wrr`,
  `-A -t ${VIP_B}:110 -s sh`,
  `-A -t ${VIP_B}:22 -s wlc -p 600`,
  `-A -t ${VIP_B}:25 -s wlc`,
  `-A -t ${VIP_B}:8000 -s lc`,
  `-A -t ${VIP_B}:8001 -s lc`,
  `-A -t ${VIP_B}:9000 -s lc`,
  `-A -t [${VIP_6}]:80 -s mh`,
  `-A -u ${VIP_A}:53 -s rr`,
  `-a -t ${VIP_A}:443 -r 10.1.1.2:443 -m -w 3`,
  `-a -t ${VIP_A}:443 -r 10.1.2.2:443 -m -w 0`,
  `-a -t ${VIP_A}:80 -r 10.1.1.2:80 -m -w 3`,
  `-a -t ${VIP_A}:80 -r 10.1.2.2:80 -m -w 0`,
  `-a -t ${VIP_B}:110 -r 10.1.2.2:110 -i -w 1 --tun-type ipip`,
  `-a -t ${VIP_B}:22 -r 10.1.1.2:22 -m -w 1`,
  `-a -t ${VIP_B}:25 -r 10.1.1.2:25 -g -w 1`,
  `-a -t ${VIP_B}:8000 -r 10.1.1.2:8000 -m -w 1`,
  `-a -t ${VIP_B}:8001 -r 10.1.1.2:8001 -m -w 1`,
  `-a -t ${VIP_B}:9000 -r 10.1.1.2:9000 -m -w 1`,
  `-a -t [${VIP_6}]:80 -r [fd00:1::2]:80 -m -w 2`,
  `-a -u ${VIP_A}:53 -r 10.1.1.2:53 -m -w 1`,
  `-a -u ${VIP_A}:53 -r 10.1.2.2:5353 -m -w 1`,
].sort();

describe("lbctl apply against the kernel", () => {
  test("programs TCP/UDP, lists and ranges, two VIPs, IPv6, nat/dr/tun, persistence and weight 0 exactly", async () => {
    writeConfig(FULL);
    const first = await apply();
    expect(first.exitCode).toBe(0);
    expect(first.body.applied).toBe(true);
    expect(ipvsadmSave()).toEqual(FULL_RULES);

    const again = await apply("--dry-run");
    expect(again).toMatchObject({ exitCode: 0, body: { changes: [], applied: false } });
  });

  test("edits produce exactly the expected operations, in place", async () => {
    writeConfig(FULL);
    expect((await apply()).exitCode).toBe(0);
    const edited = structuredClone(FULL);
    edited[0]!.scheduler = "rr"; // update-service x2
    (edited[0]!.backends as Service[])[1]!.weight = 5; // update-destination x2
    (edited[1]!.backends as Service[]).push({ address: "10.1.3.2" }); // create-destination
    (edited[2]!.backends as Service[]).length = 0; // delete-destination x3
    edited.splice(5, 1); // delete-service (tunnel)
    writeConfig(edited);
    const result = await apply();
    expect(result.exitCode).toBe(0);
    expect(ops(result.body)).toEqual([
      `update-service tcp:${VIP_A}:80`,
      `update-service tcp:${VIP_A}:443`,
      `update-destination tcp:${VIP_A}:80 10.1.2.2:80`,
      `update-destination tcp:${VIP_A}:443 10.1.2.2:443`,
      `create-destination udp:${VIP_A}:53 10.1.3.2:53`,
      `delete-destination tcp:${VIP_B}:8000 10.1.1.2:8000`,
      `delete-destination tcp:${VIP_B}:8001 10.1.1.2:8001`,
      `delete-destination tcp:${VIP_B}:9000 10.1.1.2:9000`,
      `delete-service tcp:${VIP_B}:110`,
    ]);
    const rules = ipvsadmSave();
    expect(rules).toContain(`-A -t ${VIP_A}:80 -s rr`);
    expect(rules).toContain(`-a -t ${VIP_A}:80 -r 10.1.2.2:80 -m -w 5`);
    expect(rules).toContain(`-a -u ${VIP_A}:53 -r 10.1.3.2:53 -m -w 1`);
    expect(rules.filter((r) => r.includes(":110"))).toEqual([]);
    expect(rules.filter((r) => r.includes(`${VIP_B}:8000 -r`))).toEqual([]);
  });

  test("a scheduler change happens in place: the service's counters survive (a recreated service starts at 0)", async () => {
    network = labNetwork(1);
    network.addDirectorAddress(VIP_A);
    const backend = network.backends[0]!;
    await startTcpNameServer(backend, 80);
    writeConfig([{ name: "web", ports: [80], scheduler: "wlc", backends: [{ address: backend.address }] }]);
    expect((await apply()).exitCode).toBe(0);
    tcpRequest(network.client, VIP_A, 80);
    expect(await serviceConnections(`${VIP_A}:80`, (n) => n >= 1)).toBe(1);
    writeConfig([{ name: "web", ports: [80], scheduler: "rr", backends: [{ address: backend.address }] }]);
    expect(ops((await apply()).body)).toEqual([`update-service tcp:${VIP_A}:80`]);
    expect(ipvsadmSave()).toContain(`-A -t ${VIP_A}:80 -s rr`);
    expect(await serviceConnections(`${VIP_A}:80`, (n) => n >= 1)).toBe(1);
  }, TRAFFIC_TIMEOUT_MS);

  test("--dry-run prints the plan and never touches the kernel", async () => {
    writeConfig(FULL);
    const before = ipvsadmSave();
    const result = await apply("--dry-run");
    expect(result.exitCode).toBe(0);
    expect(result.body.applied).toBe(false);
    expect(result.body.changes.length).toBe(FULL_RULES.length);
    expect(ipvsadmSave()).toEqual(before);
  });

  test("a foreign service on another address survives apply, edits and disable; a stale one on a managed VIP is removed", async () => {
    ipvsadm(["-A", "-t", "198.51.100.7:80", "-s", "rr"]);
    ipvsadm(["-a", "-t", "198.51.100.7:80", "-r", "10.9.9.9:80", "-m"]);
    ipvsadm(["-A", "-f", "42", "-s", "rr"]);
    ipvsadm(["-A", "-t", `${VIP_A}:8080`, "-s", "rr"]);
    writeConfig(FULL.slice(0, 1));
    const result = await apply();
    expect(ops(result.body)).toContain(`delete-service tcp:${VIP_A}:8080`);
    writeConfig([{ ...FULL[0], scheduler: "sh" }]);
    expect((await apply()).exitCode).toBe(0);
    const disable = await runLbctl(["disable", "--config", tree!.main]);
    expect(disable.exitCode).toBe(0);
    expect(ipvsadmSave()).toEqual(["-A -f 42 -s rr", "-A -t 198.51.100.7:80 -s rr", "-a -t 198.51.100.7:80 -r 10.9.9.9:80 -m -w 1"]);
  });

  test("a VIP removed from the config is cleaned up on the next apply (remembered in state_dir)", async () => {
    writeConfig([{ name: "old", vip: VIP_B, ports: [80], backends: [{ address: "10.1.1.2" }] }]);
    expect((await apply()).exitCode).toBe(0);
    writeConfig([{ name: "new", vip: VIP_A, ports: [80], backends: [{ address: "10.1.1.2" }] }]);
    const result = await apply();
    expect(ops(result.body)).toContain(`delete-service tcp:${VIP_B}:80`);
    expect(ipvsadmSave().filter((r) => r.includes(VIP_B))).toEqual([]);
  });

  test("a refused operation rolls the run back: the table is unchanged and the error names the operation", async () => {
    writeConfig(FULL.slice(0, 2));
    expect((await apply()).exitCode).toBe(0);
    const before = ipvsadmSave();
    // twos is valid config but Debian 12's kernel lacks it: the kernel refuses after other changes succeeded.
    writeConfig([{ ...FULL[0], scheduler: "rr", backends: [{ address: "10.1.1.2", weight: 7 }] }, FULL[1]!, { name: "new", ports: [8443], scheduler: "twos", backends: [{ address: "10.1.1.2" }] }]);
    const result = await apply();
    expect(result.exitCode).toBe(1);
    expect(result.body.applied).toBe(false);
    expect(result.body.rolled_back).toBe(true);
    expect(result.body.error.op).toBe("create-service");
    expect(result.body.error.message).toContain("twos");
    expect(result.body.error.message).toContain(`tcp:${VIP_A}:8443`);
    expect(ipvsadmSave()).toEqual(before);
  });

  test("change limits: exit 3 naming the limit, nothing changed; --force applies", async () => {
    writeConfig([{ name: "many", ports: ["7000-7003"], backends: [{ address: "10.1.1.2" }] }], { daemon: { change_limits: { max_services_deleted: 2 } } });
    expect((await apply()).exitCode).toBe(0);
    const before = ipvsadmSave();
    writeConfig([], { daemon: { change_limits: { max_services_deleted: 2 } } });
    const refused = await apply();
    expect(refused.exitCode).toBe(3);
    expect(refused.body.limit).toEqual({ name: "max_services_deleted", limit: 2, planned: 4 });
    expect(ipvsadmSave()).toEqual(before);
    expect((await apply("--dry-run")).exitCode).toBe(3);
    const forced = await apply("--force");
    expect(forced.exitCode).toBe(0);
    expect(ipvsadmSave()).toEqual([]);
  });

  test("status shows the kernel view with configured weights; --json matches cli.md", async () => {
    writeConfig(FULL.slice(0, 1));
    expect((await apply()).exitCode).toBe(0);
    ipvsadm(["-e", "-t", `${VIP_A}:80`, "-r", "10.1.1.2:80", "-m", "-w", "9"]);
    const run = await runLbctl(["status", "--json", "--stats", "--config", tree!.main]);
    expect(run.exitCode).toBe(0);
    const view = JSON.parse(run.stdout);
    expect(view.daemon).toBe(false);
    const web80 = view.services.find((s: any) => s.service === `tcp:${VIP_A}:80`);
    expect(web80).toMatchObject({ name: "web", scheduler: "wrr", persistent: false, missing: false });
    expect(web80.destinations[0]).toMatchObject({ destination: "10.1.1.2:80", backend: "10.1.1.2:80", forward: "nat", weight: 9, configured_weight: 3, health: "disabled" });
    expect(web80.stats).toEqual({ connections: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0 });
    ipvsadm(["-D", "-t", `${VIP_A}:443`]);
    const after = JSON.parse((await runLbctl(["status", "--json", "--config", tree!.main])).stdout);
    expect(after.services.find((s: any) => s.service === `tcp:${VIP_A}:443`).missing).toBe(true);
    const human = await runLbctl(["status", "--config", tree!.main]);
    expect(human.stdout).toContain("10.1.1.2:80");
  });

  test("real TCP traffic through a NAT VIP reaches two backends in turn", async () => {
    network = labNetwork(2);
    network.addDirectorAddress(VIP_A);
    for (const backend of network.backends) await startTcpNameServer(backend, 80);
    writeConfig([{ name: "web", ports: [80], scheduler: "rr", backends: network.backends.map((b) => ({ address: b.address })) }]);
    expect((await apply()).exitCode).toBe(0);
    const answers = [1, 2, 3, 4].map(() => tcpRequest(network!.client, VIP_A, 80));
    const names = network.backends.map((b) => b.name);
    expect([...answers].sort()).toEqual([names[0]!, names[0]!, names[1]!, names[1]!].sort());
    expect(answers[0]).not.toBe(answers[1]);
    expect(answers[2]).toBe(answers[0]);
  }, TRAFFIC_TIMEOUT_MS);
});
