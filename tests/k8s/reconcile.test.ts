/** One reconcile pass: finalizer before programming, status, events, cleanup, restart that writes nothing. */

import { expect, test } from "bun:test";
import { reconcile } from "../../src/k8s/reconcile.ts";
import { buildPools } from "../../src/k8s/pools.ts";
import { FINALIZER } from "../../src/k8s/names.ts";
import { CLASS, lbService, node } from "./support/objects.ts";

const settings = { loadBalancerClass: CLASS, pools: buildPools([{ name: "default", addresses: ["192.0.2.128/30"] }]), nodeAddressType: "InternalIP" as const };
const nodes = [node("n1", "10.0.0.1")];
const pass = (services: ReturnType<typeof lbService>[]) => reconcile({ services, nodes, slices: [] }, settings);

test("a new Service gets the finalizer first, and nothing is programmed until it has it", () => {
  const r = pass([lbService("web", { finalizer: false })]);
  expect(r.services).toEqual([]);
  expect(r.actions).toMatchObject([{ key: "default/web", addFinalizer: true, removeFinalizer: false, events: [{ reason: "IPAllocated", message: "Assigned IP 192.0.2.128" }] }]);
  expect(r.actions[0]?.status).toBeUndefined();
});

test("with the finalizer: programmed, status written, EnsuredLoadBalancer", () => {
  const r = pass([lbService("web")]);
  expect(r.services.map((s) => `${s.name} ${s.vip}`)).toEqual(["k8s/default/web/http 192.0.2.128"]);
  expect(r.actions[0]?.status).toEqual({ status: { loadBalancer: { ingress: [{ ip: "192.0.2.128", ipMode: "VIP" }] } } });
  expect(r.actions[0]?.events.map((e) => e.reason)).toEqual(["IPAllocated", "EnsuredLoadBalancer"]);
  expect(r.usage.get("default")).toEqual({ allocated: 1, free: 3 });
});

test("a restart on a converged cluster writes nothing and keeps every IP", () => {
  const r = pass([lbService("b", { ingress: ["192.0.2.130"] }), lbService("a", { ingress: ["192.0.2.131"], created: "2027-01-01T00:00:00Z" })]);
  expect(r.services.map((s) => s.vip).sort()).toEqual(["192.0.2.130", "192.0.2.131"]);
  expect(r.actions.every((a) => !a.addFinalizer && !a.removeFinalizer && a.status === undefined && a.events.length === 0)).toBe(true);
});

test("other classes and types are never touched", () => {
  const other = lbService("x", { finalizer: false, spec: { loadBalancerClass: "metallb.io/x" } });
  const nodePort = lbService("y", { finalizer: false, spec: { type: "NodePort" } });
  const none = lbService("z", { finalizer: false, spec: { loadBalancerClass: undefined } });
  const r = pass([other, nodePort, none]);
  expect(r.services).toEqual([]);
  expect(r.actions).toEqual([]);
});

test("deleted Service: no rules, then the finalizer goes, DeletedLoadBalancer", () => {
  const r = pass([lbService("web", { ingress: ["192.0.2.128"], deleting: true })]);
  expect(r.services).toEqual([]);
  expect(r.actions).toMatchObject([{ removeFinalizer: true, events: [{ reason: "DeletedLoadBalancer" }] }]);
  expect(r.actions[0]?.status).toBeUndefined();
  expect(r.usage.get("default")).toEqual({ allocated: 0, free: 4 });
});

test("changed away from our class: rules, status and finalizer go", () => {
  const moved = lbService("web", { ingress: ["192.0.2.128"], spec: { loadBalancerClass: "other.io/lb" } });
  const r = pass([moved]);
  expect(r.services).toEqual([]);
  expect(r.actions[0]).toMatchObject({ removeFinalizer: true, status: { status: { loadBalancer: { ingress: null } } } });
  // Without our finalizer it is not ours at all.
  moved.metadata.finalizers = ["someone.else/x"];
  expect(pass([moved]).actions).toEqual([]);
  expect(FINALIZER).toBe("libraflux.io/lb-cleanup");
});

test("pending: IPNotAvailable warning, no rules; SCTP port warned and skipped", () => {
  const r = pass([
    lbService("bad", { annotations: { "libraflux.io/load-balancer-ips": "203.0.113.5" } }),
    lbService("junk", { annotations: { "libraflux.io/load-balancer-ips": "not-an-ip" } }),
    lbService("mixed", { ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }, { name: "s", port: 9, protocol: "SCTP", nodePort: 30009 }] }),
  ]);
  const byKey = new Map(r.actions.map((a) => [a.key, a]));
  expect(byKey.get("default/bad")?.events).toEqual([{ type: "Warning", reason: "IPNotAvailable", message: "requested address 203.0.113.5 is in no address pool" }]);
  expect(byKey.get("default/junk")?.events[0]?.message).toContain('"not-an-ip"');
  expect(byKey.get("default/mixed")?.events[0]).toEqual({ type: "Warning", reason: "SyncLoadBalancerFailed", message: "port s/SCTP skipped: lbctl serves TCP and UDP ports only" });
  expect(r.services.map((s) => s.name)).toEqual(["k8s/default/mixed/80"]);
});

test("spec.loadBalancerIP is honoured; the annotation wins over it", () => {
  const r = pass([
    lbService("old", { spec: { loadBalancerIP: "192.0.2.131" } }),
    lbService("both", { spec: { loadBalancerIP: "192.0.2.131" }, annotations: { "libraflux.io/load-balancer-ips": "192.0.2.130" } }),
  ]);
  expect(r.services.map((s) => `${s.name} ${s.vip}`).sort()).toEqual(["k8s/default/both/http 192.0.2.130", "k8s/default/old/http 192.0.2.131"]);
});
