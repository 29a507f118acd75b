/** The `control_plane` keys: spec defaults and ranges, required keys, key permissions, role/mode disagreement. */

import { afterEach, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { formatIssue } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, MINIMAL_MAIN, type ConfigTree } from "../support/config-tree.ts";

let tree: ConfigTree | undefined;
afterEach(() => tree?.remove());

function load(controlPlane: string, extraMain = "") {
  tree = configTree({ main: `${MINIMAL_MAIN}${extraMain}control_plane:\n${controlPlane.replace(/^/gm, "  ")}\n` });
  return loadConfig(tree.main);
}
const text = (result: ReturnType<typeof loadConfig>) => (result.ok ? result.notices : result.issues).map(formatIssue).join("\n");

test("the spec's defaults", () => {
  const result = load("enabled: false");
  if (!result.ok) throw new Error(text(result));
  expect(result.config.main.control_plane).toEqual({
    enabled: false,
    mode: undefined,
    listen_address: "0.0.0.0:8443",
    primary_address: "",
    tls: { cert: "", key: "", ca: "", server_name: "", allowed_clients: [], pin_sha256: [] },
    sync_interval_seconds: 30,
    limits: { max_message_bytes: 16777216, max_files: 1000, max_updates_per_minute: 60, max_connections_per_minute: 30, handshake_timeout_ms: 5000 },
  });
});

test("ranges of the limits, and pins that are not a base64 SHA-256", () => {
  for (const [key, value] of [["max_message_bytes", 1023], ["max_files", 100001], ["max_updates_per_minute", 0], ["max_connections_per_minute", 6001], ["handshake_timeout_ms", 99]] as const) {
    const result = load(`limits: { ${key}: ${value} }`);
    expect(result.ok).toBe(false);
    expect(text(result)).toContain(`control_plane.limits.${key}`);
  }
  const pin = load('tls: { pin_sha256: ["abc"] }');
  expect(text(pin)).toContain("control_plane.tls.pin_sha256[0]");
  expect(load(`tls: { pin_sha256: ["${Buffer.alloc(32, 7).toString("base64")}"] }`).ok).toBe(true);
});

test("mode is required when enabled", () => {
  const result = load("enabled: true\ntls: { cert: /c, key: /k, ca: /a }");
  expect(result.ok).toBe(false);
  expect(text(result)).toContain("control_plane.mode: is required when control_plane.enabled is true");
});

test("a key readable by group or other is an error naming the file and the fix", () => {
  tree = configTree();
  const key = tree.write("certs/server.key", "-----BEGIN PRIVATE KEY-----\n");
  chmodSync(key, 0o640);
  tree.write("config.yaml", `${MINIMAL_MAIN}control_plane:\n  enabled: true\n  mode: primary\n  tls: { cert: certs/s.crt, key: certs/server.key, ca: certs/ca.crt }\n`);
  const loose = loadConfig(tree.main);
  expect(loose.ok).toBe(false);
  expect(text(loose)).toContain("control_plane.tls.key: certs/server.key has mode 0640");
  chmodSync(key, 0o600);
  expect(loadConfig(tree.main).ok).toBe(true);
});

test("node.role and control_plane.mode that disagree get a warning, not an error", () => {
  const result = load("enabled: true\nmode: primary\ntls: { cert: /c, key: /k, ca: /a }", "");
  expect(result.ok && result.notices.length).toBe(0);
  tree?.remove();
  tree = configTree({ main: `node: { name: lb-b, role: secondary }\nnetwork: { frontend: { vip: 192.0.2.10 } }\ncontrol_plane: { enabled: true, mode: primary, tls: { cert: /c, key: /k, ca: /a } }\n` });
  const disagree = loadConfig(tree.main);
  expect(disagree.ok).toBe(true);
  expect(text(disagree)).toContain("control_plane.mode is primary but node.role is secondary");
});
