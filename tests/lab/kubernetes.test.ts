/**
 * The Kubernetes LoadBalancer controller against a real kernel: the real daemon (LBCTL_BIN) in a director
 * namespace of its own, the fake API server (tests/k8s/support/) listening inside that namespace, nodes as
 * namespaces serving their NodePort and, as kube-proxy does, a healthCheckNodePort. One cluster, one daemon:
 *
 * - a Service created in the fake → traffic from a client namespace through its VIP reaches every node;
 * - an `externalTrafficPolicy: Local` Service → only nodes with endpoints, each weighted by kube-proxy's
 *   X-Load-Balancing-Endpoint-Weight, drained when kube-proxy answers 503;
 * - a node deleted, then another made ineligible → traffic moves to the others;
 * - the Services deleted → their rules are gone and the finalizers released.
 *
 * `ipvsadm -Sn` is the oracle throughout. The fake runs in this test process, so nothing here blocks the event
 * loop while the daemon talks to it: every command is spawned asynchronously.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { FakeApiServer } from "../k8s/support/fake-apiserver.ts";
import { configTree } from "../support/config-tree.ts";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, type LabNamespace, startTcpNameServer } from "./support/index.ts";

const CLASS = "libraflux.io/lbctl";
const POOL = ["10.205.0.1", "10.205.0.2", "10.205.0.3"];
const FRONTEND_VIP = "10.205.1.1";
const NODE_PORT = 30080;
const LOCAL_NODE_PORT = 30081;
const HEALTH_PORT = 32100;
const T = 240_000;

const lab = daemonLab({ ownNamespace: true });
let fake: FakeApiServer | undefined;

afterEach(() => {
  fake?.stop();
  fake = undefined;
});

/** Runs a command to completion without blocking the event loop (the fake API server lives on it). */
async function exec(argv: string[], input?: string): Promise<string> {
  const child = Bun.spawn(argv, { stdin: input === undefined ? "ignore" : new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err.trim()}`);
  return out;
}

/** The destinations of VIP:port in the director's table as `ipvsadm -Sn` prints them, sorted: the oracle. */
async function destinations(vip: string, port = 80): Promise<string[]> {
  const out = await exec(labNamespace(lab).command(["ipvsadm", "-S", "-n"]));
  return out.split("\n").map((line) => line.trim()).filter((line) => line.startsWith(`-a -t ${vip}:${port} `)).sort();
}

const rule = (vip: string, node: LabNamespace, port: number, weight: number, vipPort = 80) => `-a -t ${vip}:${vipPort} -r ${node.address}:${port} -m -w ${weight}`;

/** Waits until the kernel's destinations of VIP:80 are exactly `wanted`; on timeout says what it saw instead. */
async function untilDestinations(vip: string, wanted: string[], what: string, vipPort = 80): Promise<void> {
  let seen: string[] = [];
  try {
    await waitFor(async () => (seen = await destinations(vip, vipPort)).join("\n") === [...wanted].sort().join("\n"), 30_000, what);
  } catch (error) {
    const log = lab.daemon?.log().split("\n").slice(-25).join("\n");
    throw new Error(`${(error as Error).message}\nkernel: ${JSON.stringify(seen)}\nwanted: ${JSON.stringify([...wanted].sort())}\ndaemon log tail:\n${log}`);
  }
}

/** One TCP connection from the client namespace to VIP:port; the node's server answers with its name. */
async function request(client: LabNamespace, vip: string, port: number): Promise<string> {
  const argv = ["ip", "netns", "exec", client.name, "socat", "-t10", "-T10", "-", `TCP:${vip}:${port},connect-timeout=10`];
  return (await exec(argv, "")).trim();
}

/** Who answers `count` connections in a row (wlc: each new one goes to the least loaded node). */
async function answers(client: LabNamespace, vip: string, count: number, port = 80): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) seen.add(await request(client, vip, port));
  return seen;
}

/**
 * kube-proxy's healthCheckNodePort on a node, as kube-proxy answers it: 200 and X-Load-Balancing-Endpoint-Weight:
 * N while the node has N > 0 ready local endpoints, 503 and 0 without. N is read from `file` per request, so
 * rewriting the file changes the answer as the node's endpoints change. One long-lived server per node: forking
 * a process per connection is too slow in the emulated guest for a probe's timeout.
 */
const KUBE_PROXY_HEALTH = `
import { readFileSync } from "node:fs";
const [port, file] = process.argv.slice(2);
Bun.serve({
  port: Number(port),
  hostname: "0.0.0.0",
  fetch() {
    const endpoints = Number(readFileSync(file, "utf8").trim());
    const body = JSON.stringify({ service: { namespace: "shop", name: "api" }, localEndpoints: endpoints, serviceProxyHealthy: true });
    const headers = { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff", "X-Load-Balancing-Endpoint-Weight": String(endpoints) };
    return new Response(body, { status: endpoints > 0 ? 200 : 503, headers });
  },
});
`;

async function startKubeProxyHealth(node: LabNamespace, script: string, file: string): Promise<void> {
  Bun.spawn(["ip", "netns", "exec", node.name, process.execPath, script, String(HEALTH_PORT), file], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  await waitFor(async () => (await exec(["ss", "-N", node.name, "-Hltn", `sport = :${HEALTH_PORT}`])).trim() !== "", 30_000, `kube-proxy's health port in ${node.name}`);
}

/** Sets a node's count of ready local endpoints at once (rename): a request reads the old or the new one. */
function setEndpoints(file: string, endpoints: number): void {
  writeFileSync(`${file}.new`, `${endpoints}\n`);
  renameSync(`${file}.new`, file);
}

function lbService(name: string, port: number, nodePort: number, spec: Record<string, unknown> = {}) {
  return { metadata: { name, namespace: "shop" }, spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports: [{ name: "http", port, nodePort, protocol: "TCP" }], ...spec } };
}

async function vipOf(api: FakeApiServer, name: string): Promise<string> {
  await waitFor(() => api.object("services", "shop", name)?.status?.loadBalancer?.ingress?.[0]?.ip !== undefined, 30_000, `the status of ${name}`);
  const vip = api.object("services", "shop", name)?.status.loadBalancer.ingress[0].ip as string;
  expect(POOL).toContain(vip);
  expect(api.object("services", "shop", name)?.metadata.finalizers).toEqual(["libraflux.io/lb-cleanup"]);
  return vip;
}

describe("kubernetes LoadBalancer Services on a real kernel", () => {
  test("pool VIPs reach the nodes; Local weights follow kube-proxy; nodes deleted or excluded move traffic; deletion cleans up", async () => {
    const director = labNamespace(lab);
    const network = (lab.network = createLabNetwork({ backends: 3, director }));
    for (const address of [FRONTEND_VIP, ...POOL]) network.addDirectorAddress(address);
    const nodes = network.backends as [LabNamespace, LabNamespace, LabNamespace];
    const [first, second, third] = nodes;
    const tree = (lab.tree ??= configTree());
    const health = nodes.map((_, i) => tree.path(`kube-proxy-${i}.endpoints`));
    const script = tree.write("kube-proxy-health.ts", KUBE_PROXY_HEALTH);
    // The EndpointSlice below counts 2 endpoints on the first node, 1 on the second: kube-proxy says 3 and 1, and
    // its answer is what counts. The third node has no endpoint of the Local Service.
    [3, 1, 0].forEach((endpoints, i) => setEndpoints(health[i]!, endpoints));
    await Promise.all([
      ...nodes.map((node) => startTcpNameServer(node, NODE_PORT)),
      ...nodes.map((node) => startTcpNameServer(node, LOCAL_NODE_PORT)),
      ...nodes.map((node, i) => startKubeProxyHealth(node, script, health[i]!)),
    ]);

    const api = (fake = new FakeApiServer({ bookmarkMs: 500 }));
    // The daemon runs in the director's namespace: the fake listens on that namespace's loopback.
    director.enter(() => api.start());
    for (const node of nodes) api.put("nodes", { metadata: { name: node.name }, status: { addresses: [{ type: "InternalIP", address: node.address }] } });
    api.put("endpointslices", {
      metadata: { name: "api-x1", namespace: "shop", labels: { "kubernetes.io/service-name": "api" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.244.1.1"], nodeName: first.name, conditions: { ready: true } },
        { addresses: ["10.244.1.2"], nodeName: first.name, conditions: { ready: true } },
        { addresses: ["10.244.2.1"], nodeName: second.name, conditions: { ready: true } },
      ],
    });
    tree.write("kubeconfig", api.kubeconfig());
    writeDaemonConfig(
      lab,
      {
        node: { name: "lab-a" },
        network: { frontend: { vip: FRONTEND_VIP } },
        daemon: { reconcile_interval_ms: 1000 },
        observability: { metrics: { prometheus: { enabled: false } } },
        kubernetes: {
          enabled: true,
          kubeconfig: tree.path("kubeconfig"),
          pools: [{ name: "default", addresses: [`${POOL[0]}-${POOL[2]}`] }],
          // Only its timers apply to the Local Service's kube-proxy check (generous: the emulated guest is slow to
          // fork a connection's answer); the Cluster Service gets this tcp check.
          health: { enabled: true, type: "tcp", interval_ms: 2000, timeout_ms: 1500, fail_after: 2, recover_after: 1 },
        },
      },
      [],
    );
    lab.daemon = await startLabDaemon(lab);

    // A Cluster Service: every node, weight 1, traffic reaches each of them.
    api.put("services", lbService("web", 80, NODE_PORT));
    const web = await vipOf(api, "web");
    await untilDestinations(web, nodes.map((n) => rule(web, n, NODE_PORT, 1)), "three node destinations");
    expect(await answers(network.client, web, 4)).toEqual(new Set(nodes.map((n) => n.name)));

    // A Local Service: the nodes with endpoints, weighted as kube-proxy reports.
    api.put("services", lbService("api", 8080, LOCAL_NODE_PORT, { externalTrafficPolicy: "Local", healthCheckNodePort: HEALTH_PORT }));
    const local = await vipOf(api, "api");
    await untilDestinations(local, [rule(local, first, LOCAL_NODE_PORT, 3, 8080), rule(local, second, LOCAL_NODE_PORT, 1, 8080)], "weights 3 and 1 from the header", 8080);
    // The second node's last endpoint goes: kube-proxy answers 503 with 0, the node is drained before any
    // EndpointSlice change, and traffic goes to the first node only.
    setEndpoints(health[1]!, 0);
    await untilDestinations(local, [rule(local, first, LOCAL_NODE_PORT, 3, 8080), rule(local, second, LOCAL_NODE_PORT, 0, 8080)], "the drained node at weight 0", 8080);
    expect(await answers(network.client, local, 2, 8080)).toEqual(new Set([first.name]));
    // The first node scales to 5 endpoints: its weight follows.
    setEndpoints(health[0]!, 5);
    await untilDestinations(local, [rule(local, first, LOCAL_NODE_PORT, 5, 8080), rule(local, second, LOCAL_NODE_PORT, 0, 8080)], "weight 5 from the header", 8080);

    // A node deleted from the cluster: its destinations go, traffic reaches the two others.
    api.remove("nodes", undefined, first.name);
    await untilDestinations(web, [second, third].map((n) => rule(web, n, NODE_PORT, 1)), "the deleted node's destination gone");
    expect(await answers(network.client, web, 3)).toEqual(new Set([second.name, third.name]));
    // Made ineligible (the upstream exclusion label): only the third node is left.
    api.put("nodes", { metadata: { name: second.name, labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } } });
    await untilDestinations(web, [rule(web, third, NODE_PORT, 1)], "the excluded node's destination gone");
    expect(await answers(network.client, web, 2)).toEqual(new Set([third.name]));

    // Deleted: the rules go, then the finalizers, and the Services with them.
    api.remove("services", "shop", "web");
    api.remove("services", "shop", "api");
    await waitFor(() => api.object("services", "shop", "web") === undefined && api.object("services", "shop", "api") === undefined, 30_000, "the finalizers released");
    expect(await destinations(web)).toEqual([]);
    expect(await destinations(local, 8080)).toEqual([]);
    const table = await exec(director.command(["ipvsadm", "-S", "-n"]));
    expect(table.split("\n").filter((line) => line.includes(`${web}:`) || line.includes(`${local}:`))).toEqual([]);
    expect(lab.daemon.log()).toContain("Kubernetes API connected");
  }, T);
});
