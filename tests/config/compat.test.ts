/**
 * Files written for the Go LibraFlux load unchanged (reference/libraflux-go-inventory.md §2), apart from the
 * deliberate differences of config.md, which are reported with an explanation.
 */

import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { countConfig, servicePorts } from "../../src/config/model.ts";
import { configTree } from "../support/config-tree.ts";

const GO_MAIN = `mode: NAT
node:
  name: lb_a
  role: Primary
network:
  frontend:
    interface: eth0
    vip: 192.168.94.10
    cidr: 24
  backend:
    interface: eth1
vrrp:
  vrid: 50
  priority_primary: 150
  priority_secondary: 100
  advert_interval_ms: 1000
include: config.d/*.yaml
observability:
  logging:
    console:
      enabled: true
      level: ""
    gelf:
      enabled: false
      host: ""
      port: 0
      protocol: ""
      facility: ""
  metrics:
    prometheus:
      enabled: true
      port: 9090
      path: /metrics
      bind: ""
    influxdb:
      enabled: false
      url: ""
      token: ""
      org: ""
      bucket: ""
      push_interval_seconds: 0
system:
  state_dir: /var/lib/lbctl
  frr_config: /etc/frr/frr.conf
  sysctl_file: /etc/sysctl.d/99-lbctl.conf
  tuning_profile: Balanced
  lock_idle_timeout_minutes: 0
daemon:
  reconcile_interval_ms: 0
  state_cache:
    enabled: true
    ttl_ms: 0
`;

const GO_SERVICES = `services:
  - name: web
    protocol: TCP
    ports: [80, 443]
    port_ranges:
      - start: 8000
        end: 8010
    scheduler: WRR
    backends:
      - address: 10.0.0.10
        port: 0
        weight: 1
      - address: 10.0.0.11
        port: 0
        weight: 1
    health:
      enabled: true
      type: tcp
      port: 80
      interval_ms: 5000
      timeout_ms: 1000
      fail_after: 2
      recover_after: 1
  - name: sip
    protocol: udp
    ports: [5060]
    port_ranges:
      - start: 10000
        end: 10010
    scheduler: sh
    backends:
      - address: 10.0.1.10
        port: 0
        weight: 5
    health:
      enabled: false
      type: tcp
      port: 0
      interval_ms: 0
      timeout_ms: 0
      fail_after: 0
      recover_after: 0
`;

test("a config in the exact style of the Go LibraFlux loads and means the same", () => {
  const tree = configTree({ main: GO_MAIN, services: { "10-web.yaml": GO_SERVICES } });
  try {
    const result = loadConfig(tree.main, { env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.issues, null, 2));
    const { main, services } = result.config;
    expect(main.mode).toBe("nat");
    expect(main.node.role).toBe("primary");
    expect(main.system.tuning_profile).toBe("balanced");
    expect(main.daemon.reconcile_interval_ms).toBe(1000);
    expect(main.daemon.state_cache.ttl_ms).toBe(500);
    expect(main.observability.logging.console.level).toBe("info");
    expect(main.observability.logging.gelf.protocol).toBe("udp");
    const [web, sip] = services;
    expect(web!.protocol).toBe("tcp");
    expect(web!.scheduler).toBe("wrr");
    expect(servicePorts(web!)).toEqual([80, 443, 8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008, 8009, 8010]);
    expect(web!.backends.map((b) => [b.address, b.port, b.weight])).toEqual([
      ["10.0.0.10", 0, 1],
      ["10.0.0.11", 0, 1],
    ]);
    expect(sip!.health.enabled).toBe(false);
    expect(countConfig(result.config)).toEqual({ services: 2, virtualServices: 13 + 12, destinations: 13 * 2 + 12 });
    expect(result.notices).toEqual([]);
  } finally {
    tree.remove();
  }
});

test("mode dr loads, with a notice that it is now really programmed", () => {
  const tree = configTree({ main: GO_MAIN.replace("mode: NAT", "mode: dr"), services: { "10-web.yaml": GO_SERVICES } });
  try {
    const result = loadConfig(tree.main, { env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.notices).toHaveLength(1);
    expect(result.notices[0]!.message).toContain("the Go LibraFlux programmed NAT for every mode");
  } finally {
    tree.remove();
  }
});

test.each([
  ["VRRP priority 255", GO_MAIN.replace("priority_primary: 150", "priority_primary: 255"), "reserved for the VRRP address owner"],
  ["advert_interval_ms 1005", GO_MAIN.replace("advert_interval_ms: 1000", "advert_interval_ms: 1005"), "centiseconds"],
  ["an unknown key", GO_MAIN.replace("  role: Primary", "  role: Primary\n  rol: x"), 'unknown key "rol"'],
])("the deliberate difference '%s' is explained", (_name, main, fragment) => {
  const tree = configTree({ main, services: { "10-web.yaml": GO_SERVICES } });
  try {
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.issues.map((i) => i.message).join("\n")).toContain(fragment);
  } finally {
    tree.remove();
  }
});

test("timeout_ms >= interval_ms is explained as overlapping probes", () => {
  const tree = configTree({ main: GO_MAIN, services: { "10-web.yaml": GO_SERVICES.replace("timeout_ms: 1000", "timeout_ms: 5000") } });
  try {
    const result = loadConfig(tree.main, { env: {} });
    expect(!result.ok && result.issues[0]!.message).toContain("probes would overlap (the Go LibraFlux accepted this)");
  } finally {
    tree.remove();
  }
});

test("${UPPER} references inside comments no longer need the variable (the Go example failed on this)", () => {
  const tree = configTree({ main: `# gelf host: \${GELF_HOST}\n# influx: \${INFLUX_URL} \${INFLUX_TOKEN}\n${GO_MAIN}`, services: { "10-web.yaml": GO_SERVICES } });
  try {
    expect(loadConfig(tree.main, { env: {} }).ok).toBe(true);
  } finally {
    tree.remove();
  }
});
