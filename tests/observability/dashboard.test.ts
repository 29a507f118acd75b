/** dist/grafana/lbctl-dashboard.json: importable JSON that queries only metrics lbctl serves, covering the topics. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { FAMILIES } from "../../src/observability/metrics/families.ts";

const promtool = Bun.which("promtool");
const inCi = process.env.CI === "true" || process.env.CI === "1";
if (!promtool && !inCi) process.stderr.write("\nSKIPPED the dashboard's PromQL check: promtool is not installed (package prometheus; `npm test` as root installs it)\n");

const dashboard = JSON.parse(readFileSync(join(import.meta.dir, "../../dist/grafana/lbctl-dashboard.json"), "utf8"));

/** Every PromQL expression: panel targets and template variable queries. */
function expressions(): string[] {
  const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string));
  const variables = dashboard.templating.list.map((v: any) => (typeof v.query === "string" ? v.query : v.query.query) as string);
  return [...targets, ...variables];
}

async function servedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const family of Object.values(FAMILIES)) {
    if (family.type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(family.name + suffix);
    else names.add(family.name);
  }
  const text = await createMetricsRegistry(new MetricsModel()).scrapeText();
  for (const match of text.matchAll(/^(process_\w+) /gm)) names.add(match[1]!);
  return names;
}

describe("Grafana dashboard", () => {
  test("parses as an importable dashboard: title, uid, datasource input, unique panel ids", () => {
    expect(dashboard.title).toBe("lbctl");
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.__inputs[0]).toMatchObject({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" });
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type !== "row") expect(panel.datasource.uid).toBe("${DS_PROMETHEUS}");
    }
  });

  test("references only metric names lbctl serves", async () => {
    const served = await servedNames();
    const used = new Set(expressions().flatMap((expr) => [...expr.matchAll(/\b((?:lbctl|process)_[a-z_]+)\b/g)].map((m) => m[1]!)));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !served.has(name))).toEqual([]);
  });

  test("covers VIP ownership, reconcile rate and latency, health, weight, connections, packets, bytes, check latency and replication", () => {
    const all = expressions().join("\n");
    for (const name of [
      "lbctl_vip_is_owner",
      "lbctl_reconcile_runs_total",
      "lbctl_reconcile_duration_seconds_bucket",
      "lbctl_health_backend_healthy",
      "lbctl_health_backend_weight",
      "lbctl_ipvs_connections_active",
      "lbctl_ipvs_connections_total",
      "lbctl_ipvs_packets_in_total",
      "lbctl_ipvs_packets_out_total",
      "lbctl_ipvs_bytes_in_total",
      "lbctl_ipvs_bytes_out_total",
      "lbctl_health_check_latency_seconds_bucket",
      "lbctl_controlplane_connected",
      "lbctl_controlplane_updates_total",
      "lbctl_controlplane_last_sync_timestamp_seconds",
      "lbctl_controlplane_certificate_expiry_timestamp_seconds",
    ]) {
      expect(all).toContain(name);
    }
  });

  // promtool (Debian package prometheus, which `npm test` installs as root) parses each query as a recording rule.
  // Without it the test is skipped loudly outside CI, and fails under CI=true.
  test.skipIf(!promtool && !inCi)("every query is valid PromQL (promtool check rules)", () => {
    if (!promtool) throw new Error("promtool is not installed (package prometheus): CI=true, so this is a failure, not a skip");
    const dir = mkdtempSync(join(tmpdir(), "lbctl-dashboard-"));
    try {
      const rules = expressions()
        .filter((expr) => !expr.startsWith("label_values("))
        .map((expr, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replaceAll("$__rate_interval", "5m").replace(/\$\w+/g, ".*"))}`);
      writeFileSync(join(dir, "rules.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
      const result = Bun.spawnSync([promtool, "check", "rules", join(dir, "rules.yml")], { stdout: "pipe", stderr: "pipe" });
      expect(`${result.stderr}`).toBe("");
      expect(result.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
