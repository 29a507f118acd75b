/**
 * The Kubernetes source inside the daemon's controller (the composition `lbctl apply --daemon` runs), on the fake
 * kernel: a LoadBalancer Service created in the fake API server becomes IPVS rules on its VIP with the nodes'
 * NodePorts; deleting it removes the rules before the finalizer goes.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { stringify } from "yaml";
import { Controller } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { mergeSources } from "../../src/daemon/sources/merge.ts";
import { startKubernetes } from "../../src/daemon/sources/kubernetes-start.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";
import { CLASS } from "./support/objects.ts";

let server: FakeApiServer;
let tree: ConfigTree;

beforeAll(() => {
  server = new FakeApiServer().start();
  server.put("nodes", { metadata: { name: "n1" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }] } });
  server.put("nodes", { metadata: { name: "n2" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.2" }] } });
  tree = configTree({ services: { "web.yaml": stringify({ services: [{ name: "web", ports: [80], backends: [{ address: "10.1.0.1" }] }] }) } });
  tree.write(
    "config.yaml",
    stringify({
      node: { name: "lb-a" },
      network: { frontend: { vip: "192.0.2.10" } },
      system: { state_dir: tree.path("state") },
      kubernetes: { enabled: true, kubeconfig: "kubeconfig", pools: [{ name: "default", addresses: ["192.0.2.128/29"] }] },
    }),
  );
  tree.write("kubeconfig", server.kubeconfig());
});
afterAll(() => {
  tree.remove();
  server.stop();
});

function first<T extends { ok: boolean }>(merged: T): Extract<T, { ok: true }> {
  if (!merged.ok) throw new Error("the first load failed");
  return merged as Extract<T, { ok: true }>;
}

async function until(what: string, probe: () => unknown, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

test("a Service in the cluster → IPVS rules through the daemon's controller; deleted → rules gone, then the finalizer", async () => {
  const logs: string[] = [];
  // Relative kubeconfig paths are relative to the daemon's working folder, as for kubectl's --kubeconfig.
  const cwd = process.cwd();
  process.chdir(tree.dir);
  const source = await startKubernetes(tree.main, { write: (t: string) => logs.push(t) });
  process.chdir(cwd);
  expect(source).toBeDefined();
  if (!source) return;
  try {
    const kernel = new FakeKernel();
    const events = new RecordingSink();
    const controller = Controller.start(
      {
        sources: [fileSource(tree.main, { env: {} }), source],
        ipvs: kernel,
        addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
        health: { sync: () => {}, state: () => undefined, stateAfterSync: () => "unknown" },
        events,
        vipRecord: { read: () => [], write: () => {} },
        now: () => 0,
      },
      // The daemon's first load: the files and the (synced) cluster.
      first(mergeSources([{ source: "files", load: fileSource(tree.main, { env: {} }).load() }, { source: "kubernetes", load: source.load() }], new Map())),
    );
    const unsubscribe = source.watch?.(() => controller.reload());
    const rules = () => kernel.rules().filter((l) => l.startsWith("-a") || l.startsWith("-A"));
    server.put("services", { metadata: { name: "api", namespace: "shop" }, spec: { type: "LoadBalancer", loadBalancerClass: CLASS, ports: [{ name: "http", port: 8080, protocol: "TCP" }] } });
    const nodePort = server.object("services", "shop", "api")?.spec.ports[0].nodePort;
    await until("rules for the Service", () => rules().some((l) => l.startsWith("-A tcp:192.0.2.128:8080")));
    expect(rules()).toEqual([
      "-A tcp:192.0.2.10:80 -s wlc",
      "-A tcp:192.0.2.128:8080 -s wlc",
      "-a tcp:192.0.2.10:80 -r 10.1.0.1:80 -nat -w 1",
      `-a tcp:192.0.2.128:8080 -r 10.0.0.1:${nodePort} -nat -w 1`,
      `-a tcp:192.0.2.128:8080 -r 10.0.0.2:${nodePort} -nat -w 1`,
    ]);
    await until("status", () => server.object("services", "shop", "api")?.status.loadBalancer.ingress?.[0]?.ip === "192.0.2.128");
    expect(controller.config.services.map((s) => s.name)).toEqual(["web", "k8s/shop/api/http"]);
    server.remove("services", "shop", "api");
    await until("Service gone", () => server.object("services", "shop", "api") === undefined);
    expect(rules()).toEqual(["-A tcp:192.0.2.10:80 -s wlc", "-a tcp:192.0.2.10:80 -r 10.1.0.1:80 -nat -w 1"]);
    unsubscribe?.();
  } finally {
    await source.stop();
  }
  expect(logs.join("")).toContain("Kubernetes API connected");
});
