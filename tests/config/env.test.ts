import { describe, expect, test } from "bun:test";
import { expandEnv } from "../../src/config/env.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, oneService } from "../support/config-tree.ts";

describe("expandEnv", () => {
  test("replaces ${NAME} anywhere in a value", () => {
    expect(expandEnv("http://${HOST}:${PORT}/x", { HOST: "influx", PORT: "8086" })).toEqual({ ok: true, value: "http://influx:8086/x", changed: true });
  });
  test("expands lower-case and mixed names (Go only expanded upper case)", () => {
    expect(expandEnv("${gelf_host}", { gelf_host: "a" })).toMatchObject({ ok: true, value: "a" });
  });
  test("$${X} is a literal ${X}", () => {
    expect(expandEnv("cost $${X} and ${Y}", { Y: "y" })).toMatchObject({ ok: true, value: "cost ${X} and y" });
  });
  test("an unset variable is an error naming it, with the Go difference for lower-case names", () => {
    const result = expandEnv("${missing_one}", {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain("${missing_one} is not set");
    expect(!result.ok && result.message).toContain("lower-case");
  });
  test("an empty value is fine", () => {
    expect(expandEnv("${E}", { E: "" })).toMatchObject({ ok: true, value: "" });
  });
  test("a malformed reference is an error", () => {
    expect(expandEnv("${1BAD}", {}).ok).toBe(false);
  });
  test("text without $ is returned unchanged", () => {
    expect(expandEnv("plain", {})).toEqual({ ok: true, value: "plain", changed: false });
  });
});

describe("environment variables in config files", () => {
  const main = `# a comment that mentions \${UNSET_IN_COMMENT} must never be expanded
node: { name: "\${NODE_NAME}" }
network:
  frontend:
    vip: \${VIP}
observability:
  metrics:
    prometheus:
      port: \${METRICS_PORT}
      enabled: \${METRICS_ON}
`;

  test("values are expanded after parsing; comments are not; whole references become numbers and booleans", () => {
    const tree = configTree({ main });
    try {
      const result = loadConfig(tree.main, { env: { NODE_NAME: "lb-b", VIP: "192.0.2.99", METRICS_PORT: "9100", METRICS_ON: "false" } });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(result.config.main.node.name).toBe("lb-b");
      expect(result.config.main.network.frontend.vip).toBe("192.0.2.99");
      expect(result.config.main.observability.metrics.prometheus.port).toBe(9100);
      expect(result.config.main.observability.metrics.prometheus.enabled).toBe(false);
    } finally {
      tree.remove();
    }
  });

  test("an unset variable names the variable, the file, the line and the key", () => {
    const tree = configTree({ main });
    try {
      const result = loadConfig(tree.main, { env: { NODE_NAME: "lb-b", METRICS_PORT: "9100", METRICS_ON: "true" } });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues).toEqual([
        { file: tree.main, line: 5, column: 10, path: "network.frontend.vip", message: "environment variable ${VIP} is not set" },
      ]);
    } finally {
      tree.remove();
    }
  });

  test("a value cannot inject YAML structure", () => {
    const tree = configTree({ main: main.replace("${NODE_NAME}", "lb-a") });
    try {
      const injected = "192.0.2.1\nservices:\n  - name: evil";
      const result = loadConfig(tree.main, { env: { VIP: injected, METRICS_PORT: "9100", METRICS_ON: "true" } });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.path).toBe("network.frontend.vip");
      expect(result.issues[0]!.message).toContain("IPv4 or IPv6");
    } finally {
      tree.remove();
    }
  });

  test("a flow-mapping injection stays a string", () => {
    const tree = configTree({ services: { "a.yaml": oneService('ports: [80]\nbackends:\n  - address: "${BACKEND}"') } });
    try {
      const result = loadConfig(tree.main, { env: { BACKEND: "{address: 10.0.0.1, weight: 9}" } });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.issues[0]!.path).toBe("services[0].backends[0].address");
    } finally {
      tree.remove();
    }
  });

  test("a non-numeric value for a numeric key names the variable", () => {
    const tree = configTree({ main: main.replace("${NODE_NAME}", "lb-a") });
    try {
      const result = loadConfig(tree.main, { env: { VIP: "192.0.2.1", METRICS_PORT: "ninety", METRICS_ON: "true" } });
      expect(!result.ok && result.issues[0]!.message).toContain('got "ninety" (from ${METRICS_PORT})');
    } finally {
      tree.remove();
    }
  });

  test("a reference inside a longer string stays a string (no number conversion)", () => {
    const tree = configTree({ main: main.replace("${NODE_NAME}", "lb-${N}") });
    try {
      const result = loadConfig(tree.main, { env: { N: "7", VIP: "192.0.2.1", METRICS_PORT: "9100", METRICS_ON: "true" } });
      expect(result.ok && result.config.main.node.name).toBe("lb-7");
    } finally {
      tree.remove();
    }
  });

  test("a quoted reference hint is given when ${VAR} breaks a flow mapping", () => {
    const tree = configTree({ services: { "a.yaml": "services:\n  - { name: web, ports: [80], health: { enabled: true, port: ${P} } }\n" } });
    try {
      const result = loadConfig(tree.main, { env: { P: "80" } });
      expect(!result.ok && result.issues[0]!.message).toContain('quote a ${VAR} value');
    } finally {
      tree.remove();
    }
  });
});
