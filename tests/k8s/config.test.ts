/** The `kubernetes:` section (spec/kubernetes.md): defaults, ranges and the rules across keys and files. */

import { describe, expect, test } from "bun:test";
import { loadPatched, service, type Patch } from "../support/load-helpers.ts";
import { configJsonSchema } from "../../src/config/json-schema.ts";

const pools = (...addresses: string[][]) => addresses.map((list, i) => ({ name: `p${i}`, addresses: list }));
const k8s = (patch: Patch): Patch => ({ kubernetes: { enabled: true, ...patch } });

interface Case {
  name: string;
  patch: Patch;
  services?: Patch[];
  error?: [string, string];
}

const cases: Case[] = [
  { name: "a pool of a CIDR and a range", patch: k8s({ pools: pools(["192.0.2.128/28", "198.51.100.10-198.51.100.20"]) }) },
  { name: "an IPv6 pool", patch: k8s({ pools: pools(["2001:db8:1::/120"]) }) },
  { name: "enabled without pools", patch: k8s({}), error: ["kubernetes.pools", "at least one pool"] },
  { name: "disabled without pools", patch: { kubernetes: { enabled: false } } },
  { name: "bad address", patch: k8s({ pools: pools(["192.0.2.300/28"]) }), error: ["kubernetes.pools[0].addresses[0]", "CIDR"] },
  { name: "host bits set", patch: k8s({ pools: pools(["192.0.2.129/28"]) }), error: ["kubernetes.pools[0].addresses[0]", "192.0.2.128/28"] },
  { name: "range backwards", patch: k8s({ pools: pools(["192.0.2.20-192.0.2.10"]) }), error: ["kubernetes.pools[0].addresses[0]", "ends before it starts"] },
  { name: "mixed families in a pool", patch: k8s({ pools: pools(["192.0.2.128/28", "2001:db8::/126"]) }), error: ["kubernetes.pools[0].addresses", "mixes IPv4 and IPv6"] },
  { name: "4096 addresses", patch: k8s({ pools: pools(["10.10.0.0/20"]) }) },
  { name: "4097 addresses", patch: k8s({ pools: pools(["10.10.0.0/20", "10.11.0.0/32"]) }), error: ["kubernetes.pools[0].addresses", "at most 4096"] },
  { name: "overlapping pools", patch: k8s({ pools: pools(["192.0.2.128/28"], ["192.0.2.140-192.0.2.150"]) }), error: ["kubernetes.pools[1].addresses[0]", 'overlaps "192.0.2.128/28" of pool "p0"'] },
  { name: "duplicate pool names", patch: k8s({ pools: [{ name: "a", addresses: ["192.0.2.128/30"] }, { name: "a", addresses: ["192.0.2.132/30"] }] }), error: ["kubernetes.pools[1].name", "already used"] },
  { name: "bad pool name", patch: k8s({ pools: [{ name: "a b", addresses: ["192.0.2.128/30"] }] }), error: ["kubernetes.pools[0].name", "1-64"] },
  {
    name: "pool contains a file service's VIP",
    patch: k8s({ pools: pools(["192.0.2.16/28"]) }),
    services: [service({ vip: "192.0.2.20" })],
    error: ["kubernetes.pools[0].addresses[0]", 'contains 192.0.2.20, the VIP of service "web"'],
  },
  { name: "pool contains the frontend VIP", patch: k8s({ pools: pools(["192.0.2.8/29"]) }), error: ["kubernetes.pools[0].addresses[0]", "192.0.2.10"] },
  { name: "VRRP pair: 254 pool addresses + 1 VIP", patch: { vrrp: { vrid: 5 }, ...k8s({ pools: pools(["10.10.0.0-10.10.0.253"]) }) } },
  { name: "VRRP pair: 255 pool addresses + 1 VIP", patch: { vrrp: { vrid: 5 }, ...k8s({ pools: pools(["10.10.0.0-10.10.0.254"]) }) }, error: ["kubernetes.pools", "at most 255"] },
  { name: "no VRRP: 4096 addresses fine", patch: k8s({ pools: pools(["10.10.0.0/20"]) }) },
  { name: "resync 9", patch: k8s({ pools: pools(["10.10.0.0/30"]), resync_seconds: 9 }), error: ["kubernetes.resync_seconds", "10 to 86400"] },
  { name: "node_address_type ExternalIP", patch: k8s({ pools: pools(["10.10.0.0/30"]), node_address_type: "ExternalIP" }) },
  { name: "node_address_type Hostname", patch: k8s({ pools: pools(["10.10.0.0/30"]), node_address_type: "Hostname" }), error: ["kubernetes.node_address_type", "InternalIP or ExternalIP"] },
  { name: "bad class", patch: k8s({ pools: pools(["10.10.0.0/30"]), load_balancer_class: "lbctl" }), error: ["kubernetes.load_balancer_class", "domain/name"] },
  { name: "unknown key", patch: k8s({ pools: pools(["10.10.0.0/30"]), pool: [] }), error: ["kubernetes.pool", 'did you mean "pools"'] },
  { name: "health overlap", patch: k8s({ pools: pools(["10.10.0.0/30"]), health: { enabled: true, interval_ms: 500, timeout_ms: 500 } }), error: ["kubernetes.health.timeout_ms", "less than interval_ms"] },
];

describe("kubernetes config rules", () => {
  for (const c of cases) {
    test(c.name, () => {
      const loaded = loadPatched(c.patch, c.services);
      if (!c.error) {
        expect(loaded.errors).toBe("");
        expect(loaded.result.ok).toBe(true);
        return;
      }
      expect(loaded.result.ok).toBe(false);
      const [path, fragment] = c.error;
      expect(loaded.paths).toContain(path);
      expect(loaded.errors).toContain(fragment);
    });
  }
});

test("defaults are those of the spec", () => {
  const loaded = loadPatched({});
  if (!loaded.result.ok) throw new Error(loaded.errors);
  expect(loaded.result.config.main.kubernetes).toEqual({
    enabled: false,
    kubeconfig: "/etc/lbctl/kubeconfig",
    context: "",
    load_balancer_class: "libraflux.io/lbctl",
    pools: [],
    resync_seconds: 300,
    lease_namespace: "kube-system",
    node_address_type: "InternalIP",
  });
});

test("lbctl schema publishes the kubernetes keys", () => {
  const schema = configJsonSchema("main") as { properties: Record<string, { anyOf: Array<{ properties?: Record<string, unknown> }> }> };
  const section = schema.properties.kubernetes?.anyOf.find((alternative) => alternative.properties);
  expect(Object.keys(section?.properties ?? {}).sort()).toEqual(
    ["context", "enabled", "health", "kubeconfig", "lease_namespace", "load_balancer_class", "node_address_type", "pools", "resync_seconds"].sort(),
  );
});
