/**
 * The Kubernetes LoadBalancer controller against a real kernel: the real daemon (LBCTL_BIN) in a director
 * namespace of its own, the fake API server (tests/k8s/support/) listening inside that namespace, nodes as
 * namespaces serving their NodePort. A Service created in the fake → traffic from a client namespace through its
 * VIP reaches every node (ipvsadm -Sn as the oracle); a node deleted or made ineligible → traffic moves to the
 * others; the Service deleted → its rules are gone and the finalizer released.
 *
 * The fake runs in this test process, so the test never blocks its event loop while the daemon talks to it:
 * every command here is spawned asynchronously.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { FakeApiServer } from "../k8s/support/fake-apiserver.ts";
import { configTree } from "../support/config-tree.ts";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, type LabNamespace, startTcpNameServer } from "./support/index.ts";

const CLASS = "libraflux.io/lbctl";
const POOL = ["10.205.0.1", "10.205.0.2", "10.205.0.3"];
const FRONTEND_VIP = "10.205.1.1";
const NODE_PORT = 30080;
const T = 120_000;

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

/** The director's table as `ipvsadm -Sn` prints it: the oracle. */
async function kernelRules(): Promise<string[]> {
  const out = await exec(labNamespace(lab).command(["ipvsadm", "-S", "-n"]));
  return out.split("\n").map((line) => line.trim()).filter(Boolean).sort();
}

/** One TCP connection from the client namespace to VIP:80; the node's server answers with its name. */
async function request(client: LabNamespace, vip: string): Promise<string> {
  const argv = ["ip", "netns", "exec", client.name, "socat", "-t10", "-T10", "-", `TCP:${vip}:80,connect-timeout=10`];
  return (await exec(argv, "")).trim();
}

async function answers(client: LabNamespace, vip: string, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) seen.add(await request(client, vip));
  return seen;
}

/** Nodes (namespaces) serving NODE_PORT, the fake with one Node object each, and the daemon watching it. */
async function cluster(nodeCount: number): Promise<{ nodes: readonly LabNamespace[]; client: LabNamespace; api: FakeApiServer }> {
  const director = labNamespace(lab);
  lab.network = createLabNetwork({ backends: nodeCount, director });
  for (const address of [FRONTEND_VIP, ...POOL]) lab.network.addDirectorAddress(address);
  await Promise.all(lab.network.backends.map((node) => startTcpNameServer(node, NODE_PORT)));
  const api = new FakeApiServer({ bookmarkMs: 500 });
  fake = api;
  // The daemon runs in the director's namespace: the fake listens on that namespace's loopback.
  director.enter(() => api.start());
  for (const node of lab.network.backends) api.put("nodes", { metadata: { name: node.name }, status: { addresses: [{ type: "InternalIP", address: node.address }] } });
  const tree = (lab.tree ??= configTree());
  tree.write("kubeconfig", api.kubeconfig());
  writeDaemonConfig(
    lab,
    {
      node: { name: "lab-a" },
      network: { frontend: { vip: FRONTEND_VIP } },
      daemon: { reconcile_interval_ms: 1000 },
      observability: { metrics: { prometheus: { enabled: false } } },
      kubernetes: { enabled: true, kubeconfig: tree.path("kubeconfig"), resync_seconds: 10, pools: [{ name: "default", addresses: [`${POOL[0]}-${POOL[POOL.length - 1]}`] }] },
    },
    [],
  );
  lab.daemon = await startLabDaemon(lab);
  return { nodes: lab.network.backends, client: lab.network.client, api };
}

const destinationsOf = (rules: readonly string[], vip: string) => rules.filter((line) => line.startsWith(`-a -t ${vip}:80 `));

describe("kubernetes LoadBalancer Services on a real kernel", () => {
  test("a Service gets a pool VIP that reaches every node; a node deleted or excluded moves traffic; deletion removes the rules", async () => {
    const { nodes, client, api } = await cluster(3);
    const [first, second, third] = nodes as [LabNamespace, LabNamespace, LabNamespace];
    api.put("services", {
      metadata: { name: "web", namespace: "shop" },
      spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports: [{ name: "http", port: 80, nodePort: NODE_PORT, protocol: "TCP" }] },
    });
    await waitFor(() => api.object("services", "shop", "web")?.status?.loadBalancer?.ingress?.[0]?.ip !== undefined, 20_000, "the Service's status");
    const vip = api.object("services", "shop", "web")?.status.loadBalancer.ingress[0].ip as string;
    expect(POOL).toContain(vip);
    expect(api.object("services", "shop", "web")?.metadata.finalizers).toEqual(["libraflux.io/lb-cleanup"]);

    let rules: string[] = [];
    await waitFor(async () => destinationsOf((rules = await kernelRules()), vip).length === 3, 20_000, "three node destinations in the kernel");
    expect(rules).toContain(`-A -t ${vip}:80 -s wlc`);
    expect(destinationsOf(rules, vip)).toEqual(nodes.map((n) => `-a -t ${vip}:80 -r ${n.address}:${NODE_PORT} -m -w 1`).sort());
    expect(await answers(client, vip, 6)).toEqual(new Set(nodes.map((n) => n.name)));

    // Deleted from the cluster: its destination goes, traffic reaches the two others.
    api.remove("nodes", undefined, first.name);
    await waitFor(async () => destinationsOf((rules = await kernelRules()), vip).length === 2, 20_000, "the deleted node's destination gone");
    expect(destinationsOf(rules, vip)).toEqual([second, third].map((n) => `-a -t ${vip}:80 -r ${n.address}:${NODE_PORT} -m -w 1`).sort());
    expect(await answers(client, vip, 4)).toEqual(new Set([second.name, third.name]));

    // Made ineligible (the upstream exclusion label): only the third node is left.
    api.put("nodes", { metadata: { name: second.name, labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } } });
    await waitFor(async () => destinationsOf((rules = await kernelRules()), vip).length === 1, 20_000, "the excluded node's destination gone");
    expect(destinationsOf(rules, vip)).toEqual([`-a -t ${vip}:80 -r ${third.address}:${NODE_PORT} -m -w 1`]);
    expect(await answers(client, vip, 3)).toEqual(new Set([third.name]));

    // Deleted: the rules go, then the finalizer, and the Service with it.
    api.remove("services", "shop", "web");
    await waitFor(() => api.object("services", "shop", "web") === undefined, 20_000, "the finalizer released");
    rules = await kernelRules();
    expect(rules.filter((line) => line.includes(`${vip}:`))).toEqual([]);
    expect(lab.daemon!.log()).toContain("Kubernetes API connected");
  }, T);
});
