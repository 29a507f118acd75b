/** Service + nodes + EndpointSlices → the lbctl services that serve it; node eligibility; status comparison. */

import { expect, test } from "bun:test";
import { desiredServices } from "../../src/k8s/desired.ts";
import { backendNodes, nodeExclusion } from "../../src/k8s/nodes.ts";
import { ingressEqual, statusPatch } from "../../src/k8s/status.ts";
import { lbService, node, slice } from "./support/objects.ts";

const nodes = [node("n1", "10.0.0.1", { ipv6: "fd00::1" }), node("n2", "10.0.0.2", { ipv6: "fd00::2" })];
const settings = { nodeAddressType: "InternalIP" as const };

test("node eligibility: deletion, exclude label, ToBeDeleted taint", () => {
  expect(nodeExclusion(node("a", "10.0.0.9"))).toBeUndefined();
  expect(nodeExclusion(node("a", "10.0.0.9", { deletionTimestamp: "2026-01-01T00:00:00Z" }))).toBe("being deleted");
  expect(nodeExclusion(node("a", "10.0.0.9", { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } }))).toContain("labelled");
  expect(nodeExclusion(node("a", "10.0.0.9", { taints: ["ToBeDeletedByClusterAutoscaler"] }))).toContain("tainted");
  expect(nodeExclusion(node("a", "10.0.0.9", { taints: ["node.kubernetes.io/unreachable"] }))).toBeUndefined();
  const all = [...nodes, node("gone", "10.0.0.3", { deletionTimestamp: "2026-01-01T00:00:00Z" }), node("v6only", "fd00::9")];
  expect(backendNodes(all, "InternalIP", 4).map((n) => n.address)).toEqual(["10.0.0.1", "10.0.0.2"]);
  expect(backendNodes(all, "InternalIP", 6).map((n) => n.address)).toEqual(["fd00::1", "fd00::2", "fd00::9"]);
  expect(backendNodes(all, "ExternalIP", 4)).toEqual([]);
});

test("one lbctl service per port, protocol per port, a backend per node at the port's NodePort", () => {
  const service = lbService("dns", {
    namespace: "infra",
    ports: [
      { name: "dns-udp", protocol: "UDP", port: 53, nodePort: 30053 },
      { protocol: "TCP", port: 53, nodePort: 30054 },
      { name: "sctp", protocol: "SCTP", port: 9, nodePort: 30009 },
    ],
  });
  const out = desiredServices(service, ["192.0.2.128"], nodes, [], settings);
  expect(out.map((s) => [s.name, s.protocol, s.vip, s.ports, s.backends])).toEqual([
    ["k8s/infra/dns/dns-udp", "udp", "192.0.2.128", [{ start: 53, end: 53 }], [{ address: "10.0.0.1", port: 30053, weight: 1 }, { address: "10.0.0.2", port: 30053, weight: 1 }]],
    ["k8s/infra/dns/53", "tcp", "192.0.2.128", [{ start: 53, end: 53 }], [{ address: "10.0.0.1", port: 30054, weight: 1 }, { address: "10.0.0.2", port: 30054, weight: 1 }]],
  ]);
  expect(out.every((s) => !s.health.enabled && s.persistence === undefined)).toBe(true);
});

test("kubernetes.health applies to ports whose protocol it can probe", () => {
  const service = lbService("w", { ports: [{ name: "a", protocol: "TCP", port: 80, nodePort: 30080 }, { name: "b", protocol: "UDP", port: 80, nodePort: 30081 }] });
  const health = { ...desiredServices(service, ["192.0.2.1"], nodes, [], settings)[0]!.health, enabled: true, type: "tcp" as const };
  const out = desiredServices(service, ["192.0.2.1"], nodes, [], { ...settings, health });
  expect(out.map((s) => s.health.enabled)).toEqual([true, false]);
});

test("externalTrafficPolicy Local: nodes with ready endpoints, weight = local endpoints, http check on healthCheckNodePort", () => {
  const service = lbService("web", { spec: { externalTrafficPolicy: "Local", healthCheckNodePort: 32000 } });
  const slices = [
    slice("web", [{ node: "n1" }, { node: "n1" }, { node: "n1", ready: false }, { node: "n2", ready: false }]),
    slice("other", [{ node: "n2" }]),
  ];
  const [out] = desiredServices(service, ["192.0.2.128"], nodes, slices, settings);
  expect(out?.backends).toEqual([{ address: "10.0.0.1", port: 30080, weight: 2 }]);
  expect(out?.health).toMatchObject({ enabled: true, type: "http", port: 32000, http_path: "/", http_weight_header: "X-Load-Balancing-Endpoint-Weight" });
  // kubernetes.health gives its timers only: the check itself stays kube-proxy's.
  const timers = { ...out!.health, type: "tcp" as const, port: 0, interval_ms: 500, timeout_ms: 200, fail_after: 2, recover_after: 1 };
  const [withTimers] = desiredServices(service, ["192.0.2.128"], nodes, slices, { ...settings, health: timers });
  expect(withTimers?.health).toMatchObject({ type: "http", port: 32000, interval_ms: 500, timeout_ms: 200, fail_after: 2, recover_after: 1, http_weight_header: "X-Load-Balancing-Endpoint-Weight" });
});

test("sessionAffinity ClientIP → persistence with its timeout (default 10800 s)", () => {
  const withTimeout = lbService("a", { spec: { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } } });
  expect(desiredServices(withTimeout, ["192.0.2.1"], nodes, [], settings)[0]?.persistence).toEqual({ timeout_seconds: 600 });
  const plain = lbService("b", { spec: { sessionAffinity: "ClientIP" } });
  expect(desiredServices(plain, ["192.0.2.1"], nodes, [], settings)[0]?.persistence).toEqual({ timeout_seconds: 10800 });
});

test("dual-stack: one service per family, each with that family's node addresses", () => {
  const service = lbService("ds", { spec: { ipFamilies: ["IPv4", "IPv6"] } });
  const out = desiredServices(service, ["192.0.2.128", "2001:db8::10"], nodes, [], settings);
  expect(out.map((s) => [s.name, s.vip, s.backends.map((b) => b.address)])).toEqual([
    ["k8s/default/ds/http", "192.0.2.128", ["10.0.0.1", "10.0.0.2"]],
    ["k8s/default/ds/http/IPv6", "2001:db8::10", ["fd00::1", "fd00::2"]],
  ]);
});

test("status compared the way the API server defaults it: no patch for no change", () => {
  const service = lbService("a", { ingress: ["192.0.2.1"] });
  expect(statusPatch(service, [{ ip: "192.0.2.1", ipMode: "VIP" }])).toBeUndefined();
  // An older API server (no ipMode) shows the same thing.
  expect(ingressEqual([{ ip: "192.0.2.1" }], [{ ip: "192.0.2.1", ipMode: "VIP" }])).toBe(true);
  expect(ingressEqual([{ ip: "2001:DB8::1" }], [{ ip: "2001:db8::1", ipMode: "VIP" }])).toBe(true);
  expect(ingressEqual([{ ip: "192.0.2.1", ipMode: "Proxy" }], [{ ip: "192.0.2.1", ipMode: "VIP" }])).toBe(false);
  expect(statusPatch(service, [{ ip: "192.0.2.2", ipMode: "VIP" }])).toEqual({ status: { loadBalancer: { ingress: [{ ip: "192.0.2.2", ipMode: "VIP" }] } } });
  expect(statusPatch(service, [])).toEqual({ status: { loadBalancer: { ingress: null } } });
  expect(statusPatch(lbService("b"), [])).toBeUndefined();
});
