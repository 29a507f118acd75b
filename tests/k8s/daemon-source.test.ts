/**
 * The Kubernetes source in the daemon's controller, against the fake API server and the fake kernel: its metrics
 * and audit records (spec/kubernetes.md), removals the cluster decides going past the change limits while the same
 * removal from the files is refused, and the saved state that a daemon started without the API server serves.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { Controller, loadDesired } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { kubernetesSource, type KubernetesSource } from "../../src/daemon/sources/kubernetes.ts";
import { kubernetesStateFile } from "../../src/daemon/sources/kubernetes-state.ts";
import { auditSink, type AuditRecord } from "../../src/observability/audit.ts";
import { fanOut, RecordingSink, type DaemonEvent } from "../../src/observability/events.ts";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";
import { CLASS } from "./support/objects.ts";

let server: FakeApiServer;
const trees: ConfigTree[] = [];

beforeAll(() => {
  server = new FakeApiServer({ bookmarkMs: 300 }).start();
  for (const [name, ip] of [["n1", "10.0.0.1"], ["n2", "10.0.0.2"]] as const) {
    server.put("nodes", { metadata: { name }, status: { addresses: [{ type: "InternalIP", address: ip }] } });
  }
});
afterAll(() => {
  for (const tree of trees) tree.remove();
  server.stop();
});

/** A main file with Kubernetes on and `files` file services (web0, web1, …), each on its own port. */
function daemonTree(options: { files?: number; limits?: Record<string, number> } = {}): ConfigTree {
  const files = Array.from({ length: options.files ?? 1 }, (_, i) => ({ name: `web${i}`, ports: [8000 + i], backends: [{ address: "10.1.0.1" }] }));
  const tree = configTree({ services: { "web.yaml": stringify({ services: files }) } });
  trees.push(tree);
  tree.write("kubeconfig", server.kubeconfig());
  tree.write(
    "config.yaml",
    stringify({
      node: { name: "lb-a" },
      network: { frontend: { vip: "192.0.2.10" } },
      system: { state_dir: tree.path("state") },
      daemon: { change_limits: { max_services_deleted: 1, max_destinations_deleted: 1, ...options.limits } },
      kubernetes: { enabled: true, kubeconfig: tree.path("kubeconfig"), pools: [{ name: "default", addresses: ["192.0.2.128/29"] }] },
    }),
  );
  return tree;
}

function source(tree: ConfigTree, emit: (event: DaemonEvent) => void = () => {}): KubernetesSource {
  const loaded = fileSource(tree.main, { env: {} }).load();
  if (!loaded.ok || !loaded.main) throw new Error("config invalid");
  return kubernetesSource(loaded.main, { emit, saveDelayMs: 50, identity: "lb-a" });
}

function startController(tree: ConfigTree, k8s: KubernetesSource, events: RecordingSink | ReturnType<typeof fanOut>, kernel = new FakeKernel()) {
  const sources = [fileSource(tree.main, { env: {} }), k8s];
  const controller = Controller.start(
    {
      sources,
      ipvs: kernel,
      addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
      health: { sync: () => {}, state: () => undefined, stateAfterSync: () => "unknown" },
      events,
      vipRecord: { read: () => [], write: () => {} },
      now: () => 0,
    },
    loadDesired(sources),
  );
  // As the daemon does: every change of the source is a reload.
  const results: string[] = [];
  const unsubscribe = k8s.watch?.(() => results.push(controller.reload().result));
  return { controller, kernel, results, unsubscribe: () => unsubscribe?.() };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

function createService(name: string, ports = [{ name: "http", port: 80, protocol: "TCP" }]) {
  return server.put("services", { metadata: { name, namespace: "limits" }, spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports, clusterIP: "10.96.0.10", selector: { app: name } } });
}

const rulesOn = (kernel: FakeKernel, prefix: string) => kernel.rules().filter((line) => line.includes(prefix));

test("metrics and audit records: connected, leader, pools; disconnected while the API server is down", async () => {
  const tree = daemonTree();
  const model = new MetricsModel();
  const audit: AuditRecord[] = [];
  const sink = fanOut([model, auditSink((record) => audit.push(record))]);
  model.emit({ type: "daemon-started", node: "lb-a", pid: 1, version: "test" });
  const k8s = source(tree, (event) => sink.emit(event));
  const scrape = () => createMetricsRegistry(model, { processMetrics: false }).scrapeText();
  // As the daemon does: load the services whenever they change (a removed Service's finalizer waits for that).
  k8s.watch?.(() => k8s.load());
  try {
    await until("connected and leader", () => k8s.controller.connected && k8s.controller.leader);
    createService("metrics");
    await until("allocated", () => k8s.controller.last?.usage.get("default")?.allocated === 1);
    await until("metrics", async () => (await scrape()).includes('lbctl_kubernetes_pool_addresses{node="lb-a",pool="default",state="allocated"} 1'));
    const text = await scrape();
    expect(text).toContain('lbctl_kubernetes_connected{node="lb-a"} 1');
    expect(text).toContain('lbctl_kubernetes_leader{node="lb-a"} 1');
    expect(text).toContain('lbctl_kubernetes_pool_addresses{node="lb-a",pool="default",state="free"} 7');
    expect(audit.map((r) => r.event)).toEqual(expect.arrayContaining(["kubernetes_connected", "kubernetes_leader_acquired"]));
    expect(audit.find((r) => r.event === "kubernetes_leader_acquired")?.fields).toEqual({ lease: "lbctl-libraflux-io-lbctl", identity: "lb-a" });

    server.down = true;
    server.cutWatches();
    try {
      await until("disconnected", () => audit.some((r) => r.event === "kubernetes_disconnected"));
      expect(await scrape()).toContain('lbctl_kubernetes_connected{node="lb-a"} 0');
      expect(audit.find((r) => r.event === "kubernetes_disconnected")?.fields.error).toContain("503");
    } finally {
      server.down = false;
    }
    await until("reconnected", () => audit.filter((r) => r.event === "kubernetes_connected").length === 2, 40_000);
    expect(await scrape()).toContain('lbctl_kubernetes_connected{node="lb-a"} 1');
    server.remove("services", "limits", "metrics");
    await until("cleanup", () => !server.object("services", "limits", "metrics"));
  } finally {
    await k8s.stop();
  }
  // Stopping gives the Lease's writing up: the follower state is recorded too.
  expect(audit.at(-1)?.event).toBe("kubernetes_leader_lost");
  expect(await scrape()).toContain('lbctl_kubernetes_leader{node="lb-a"} 0');
}, 60_000);

test("a metrics model without the Kubernetes source has no kubernetes series", async () => {
  const model = new MetricsModel();
  model.emit({ type: "daemon-started", node: "lb-a", pid: 1, version: "test" });
  const text = await createMetricsRegistry(model, { processMetrics: false }).scrapeText();
  expect(text).toContain("# TYPE lbctl_kubernetes_connected gauge");
  expect(text).not.toMatch(/^lbctl_kubernetes_/m);
});

test("the cluster deleting more services and destinations than the limits allow goes through; the files deleting as many is refused", async () => {
  const tree = daemonTree({ files: 3 });
  const k8s = source(tree);
  const events = new RecordingSink();
  const audit: AuditRecord[] = [];
  const sink = fanOut([events, auditSink((record) => audit.push(record))]);
  try {
    await k8s.synced(10_000);
    const { controller, kernel, results, unsubscribe } = startController(tree, k8s, sink);
    for (const name of ["a", "b", "c"]) createService(name);
    await until("three Services programmed", () => rulesOn(kernel, ":80 -r").length === 6);

    // A node leaves: 3 destinations (one per Service) go although max_destinations_deleted is 1.
    const removedAt = Date.now();
    server.remove("nodes", undefined, "n2");
    await until("node n2 gone from the rules", () => rulesOn(kernel, ":80 -r").length === 3);
    // The bound: the kernel table matches the cluster within 1 s of a change.
    const ms = Date.now() - removedAt;
    console.log(`BENCH k8s-node-removed-to-kernel ms=${ms}`);
    expect(ms).toBeLessThan(1000);
    expect(rulesOn(kernel, "10.0.0.2")).toEqual([]);
    const nodeRemovals = events.ofType("kubernetes-removal");
    expect(nodeRemovals.map((e) => [e.service, e.destinations]).sort()).toEqual([
      ["k8s/limits/a/http", 1],
      ["k8s/limits/b/http", 1],
      ["k8s/limits/c/http", 1],
    ]);
    expect(nodeRemovals[0]?.reason).toBe("backend nodes no longer eligible, or without ready endpoints");

    // The Services go: 3 virtual services although max_services_deleted is 1.
    for (const name of ["a", "b", "c"]) server.remove("services", "limits", name);
    await until("rules of the Services gone", () => rulesOn(kernel, ":80 ").length === 0);
    await until("Services gone from the cluster", () => ["a", "b", "c"].every((name) => !server.object("services", "limits", name)));
    expect(results).not.toContain("refused");
    expect(events.ofType("change-limit-hit")).toEqual([]);
    const serviceRemovals = audit.filter((r) => r.event === "kubernetes_removal" && r.fields.services_deleted === 1);
    expect(serviceRemovals.map((r) => r.fields.service).sort()).toEqual(["k8s/limits/a/http", "k8s/limits/b/http", "k8s/limits/c/http"]);
    expect(serviceRemovals[0]?.fields.reason).toBe("Service being deleted");

    // The same size of deletion from the files counts.
    tree.write("config.d/web.yaml", stringify({ services: [] }));
    const refused = controller.reload();
    expect(refused).toMatchObject({ result: "refused", limit: { name: "max_services_deleted", limit: 1, planned: 3 } });
    expect(rulesOn(kernel, "192.0.2.10:80")).toHaveLength(6);
    unsubscribe();
  } finally {
    server.put("nodes", { metadata: { name: "n2" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.2" }] } });
    await k8s.stop();
  }
}, 60_000);

test("the last known Kubernetes services are saved in state_dir and served by a daemon started without the API server", async () => {
  const tree = daemonTree();
  const first = source(tree);
  try {
    createService("saved", [
      { name: "dns-tcp", port: 53, protocol: "TCP" },
      { name: "dns-udp", port: 53, protocol: "UDP" },
    ]);
    await until("programmed", () => first.controller.computed.length === 2);
    await until("saved", () => existsSync(kubernetesStateFile(tree.path("state"))) && readFileSync(kubernetesStateFile(tree.path("state")), "utf8").includes('"192.0.2.128"'));
  } finally {
    await first.stop();
  }
  const before = first.controller.computed;
  const saved = JSON.parse(readFileSync(kubernetesStateFile(tree.path("state")), "utf8"));
  // Trimmed to what the reconcile reads: no managedFields, clusterIP, or the like.
  expect(saved.services[0].spec.clusterIP).toBeUndefined();
  expect(saved.services[0].spec.selector).toBeUndefined();
  expect(saved.services[0].status.loadBalancer.ingress).toEqual([{ ip: "192.0.2.128", ipMode: "VIP" }]);

  server.down = true;
  const events = new RecordingSink();
  const second = source(tree, (event) => events.emit(event));
  try {
    expect(await second.synced(500)).toBe(false);
    await until("the API server seen down", () => events.ofType("kubernetes-connection").some((e) => !e.connected));
    const { kernel, unsubscribe } = startController(tree, second, events);
    expect(second.controller.computed).toEqual(before);
    const nodePorts = (server.object("services", "limits", "saved")?.spec.ports as { nodePort: number }[]).map((p) => p.nodePort);
    expect(rulesOn(kernel, "192.0.2.128")).toEqual([
      "-A tcp:192.0.2.128:53 -s wlc",
      "-A udp:192.0.2.128:53 -s wlc",
      `-a tcp:192.0.2.128:53 -r 10.0.0.1:${nodePorts[0]} -nat -w 1`,
      `-a tcp:192.0.2.128:53 -r 10.0.0.2:${nodePorts[0]} -nat -w 1`,
      `-a udp:192.0.2.128:53 -r 10.0.0.1:${nodePorts[1]} -nat -w 1`,
      `-a udp:192.0.2.128:53 -r 10.0.0.2:${nodePorts[1]} -nat -w 1`,
    ]);
    unsubscribe();
  } finally {
    server.down = false;
    await second.stop();
  }
}, 60_000);

test("a saved state that is not valid is reported, naming the file and the field, and not used", async () => {
  const tree = daemonTree();
  const file = kubernetesStateFile(tree.path("state"));
  writeFileSync(tree.write("state/kubernetes-state.json", "{}"), JSON.stringify({ version: 1, loadBalancerClass: CLASS, services: [{ metadata: { name: "x" }, spec: { ports: [{ port: 99999 }] } }], nodes: [], slices: [] }));
  server.down = true;
  const events = new RecordingSink();
  const k8s = source(tree, (event) => events.emit(event));
  try {
    const error = events.ofType("error")[0]?.message ?? "";
    expect(error).toContain(file);
    expect(error).toContain("services.0.spec.ports.0.port");
    expect(k8s.controller.computed).toEqual([]);
    writeFileSync(file, "{ torn");
    const again = source(tree, (event) => events.emit(event));
    await again.stop();
    expect(events.ofType("error").at(-1)?.message).toContain("not valid JSON");
  } finally {
    server.down = false;
    await k8s.stop();
  }
});
