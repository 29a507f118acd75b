/**
 * Two real `lbctl apply --daemon` processes (the test-only memory kernel, LBCTL_TEST_MEMORY_KERNEL=1) watching one
 * fake API server: both program the cluster's Service, one leader (Lease) writes; a restart of the leader writes
 * nothing and keeps the address; after `kill -9` of the leader the other takes the Lease over and writes.
 * Leadership is read from each daemon's own metrics (`lbctl_kubernetes_leader`).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { stringify } from "yaml";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { freePort, eventually } from "../controlplane/support/pair.ts";
import { runLbctl } from "../support/run-lbctl.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";
import { CLASS } from "./support/objects.ts";
import { documentedGrants, key, requestGrant } from "./support/rbac.ts";
import { spawnMemoryKernelDaemon } from "../support/memory-kernel-daemon.ts";

let server: FakeApiServer;

class Director {
  readonly tree: ConfigTree;
  proc: ReturnType<typeof Bun.spawn> | undefined;
  output = "";

  constructor(
    readonly name: string,
    readonly metricsPort: number,
  ) {
    this.tree = configTree();
    this.tree.write("kubeconfig", server.kubeconfig());
    this.tree.write(
      "config.yaml",
      stringify({
        node: { name },
        network: { frontend: { vip: "192.0.2.10" } },
        observability: { metrics: { prometheus: { enabled: true, bind: "127.0.0.1", port: metricsPort } } },
        system: { state_dir: this.tree.path("state") },
        daemon: { socket: this.tree.path("lbctl.sock"), reconcile_interval_ms: 500 },
        kubernetes: { enabled: true, kubeconfig: this.tree.path("kubeconfig"), pools: [{ name: "default", addresses: ["192.0.2.128/29"] }] },
      }),
    );
  }

  start(): void {
    this.output = "";
    this.proc = spawnMemoryKernelDaemon(this.tree.main, (text) => (this.output += text));
  }

  async kill(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (!this.proc) return;
    this.proc.kill(signal);
    await this.proc.exited;
    this.proc = undefined;
  }

  /** A gauge of this daemon's metrics, or undefined while it does not answer. */
  async gauge(name: string): Promise<number | undefined> {
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
      const match = new RegExp(`^${name}\\{node="${this.name}"\\} (\\S+)$`, "m").exec(text);
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  async services(): Promise<string[]> {
    const run = await runLbctl(["status", "--json", "--config", this.tree.main]);
    if (run.exitCode !== 0) return [];
    return (JSON.parse(run.stdout).services as { name: string }[]).map((s) => s.name);
  }
}

const directors: Director[] = [];

beforeAll(() => {
  server = new FakeApiServer({ bookmarkMs: 500 }).start();
  for (const [name, ip] of [["n1", "10.0.0.1"], ["n2", "10.0.0.2"]] as const) {
    server.put("nodes", { metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } });
  }
});
afterAll(async () => {
  for (const director of directors) {
    await director.kill("SIGKILL");
    director.tree.remove();
  }
  server.stop();
});

const ingressOf = (name: string) => server.object("services", "default", name)?.status?.loadBalancer?.ingress?.map((i: { ip: string }) => i.ip) as string[] | undefined;
/** Writes besides the Lease's renewals: Services, their status, Events. */
const writesSince = (mark: number) => server.requests.slice(mark).filter((r) => r.method !== "GET" && !r.path.includes("/leases"));

test("two daemons: one leader writes; a restart writes nothing; after kill -9 of the leader the other takes over", async () => {
  const a = new Director("lb-a", await freePort());
  const b = new Director("lb-b", await freePort());
  directors.push(a, b);
  a.start();
  await eventually("lb-a leads", async () => (await a.gauge("lbctl_kubernetes_leader")) === 1, 30_000);
  b.start();
  await eventually("lb-b connected", async () => (await b.gauge("lbctl_kubernetes_connected")) === 1, 30_000);
  expect(await b.gauge("lbctl_kubernetes_leader")).toBe(0);

  server.put("services", { metadata: { name: "pair", namespace: "default" }, spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports: [{ name: "http", port: 80, protocol: "TCP" }] } });
  await eventually("status written", () => ingressOf("pair")?.[0] === "192.0.2.128");
  for (const director of [a, b]) await eventually(`${director.name} programs it`, async () => (await director.services()).includes("k8s/default/pair/http"));

  // A restart of the leader: same identity, so it renews its own Lease at once; nothing else is written.
  await a.kill("SIGTERM");
  const mark = server.requests.length;
  a.start();
  await eventually("lb-a serves again", async () => (await a.services()).includes("k8s/default/pair/http"), 30_000);
  await eventually("lb-a leads again", async () => (await a.gauge("lbctl_kubernetes_leader")) === 1, 30_000);
  await Bun.sleep(1000);
  expect(writesSince(mark)).toEqual([]);
  expect(server.requests.slice(mark).some((r) => r.method === "PUT" && r.path.includes("/leases/"))).toBe(true);
  expect(ingressOf("pair")).toEqual(["192.0.2.128"]);

  // kill -9: the Lease is not released; lb-b takes it once it has seen it unrenewed for its whole duration (15 s).
  await a.kill("SIGKILL");
  const killedAt = Date.now();
  await eventually("lb-b leads", async () => (await b.gauge("lbctl_kubernetes_leader")) === 1, 40_000);
  const takeoverMs = Date.now() - killedAt;
  console.log(`BENCH k8s-leader-takeover-after-kill9 ms=${takeoverMs}`);
  expect(server.object("leases", "kube-system", "lbctl-libraflux-io-lbctl")?.spec.holderIdentity).toStartWith("lb-b@");
  server.put("services", { metadata: { name: "after", namespace: "default" }, spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports: [{ name: "http", port: 80, protocol: "TCP" }] } });
  await eventually("lb-b writes the status", () => ingressOf("after")?.[0] === "192.0.2.129");
  await eventually("lb-b programs it", async () => (await b.services()).includes("k8s/default/after/http"));
  expect(b.output).not.toContain("ERROR");

  // Deleted: the finalizer goes once b no longer programs it.
  server.remove("services", "default", "after");
  await eventually("cleanup", () => server.object("services", "default", "after") === undefined);

  // docs/kubernetes.md's RBAC manifest grants exactly the verbs these daemons used (the test's own requests are not
  // over HTTP): nothing they did would be forbidden, nothing granted is unused.
  const used = new Set(server.requests.map((r) => key(requestGrant(r.method, r.path))));
  const granted = new Set(documentedGrants().map(key));
  expect([...used].filter((k) => !granted.has(k))).toEqual([]);
  expect([...granted].filter((k) => !used.has(k))).toEqual([]);
}, 120_000);
