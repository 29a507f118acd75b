/** `lbctl status` for people: draining destinations are marked and listed with their connections and deadline. */

import { describe, expect, test } from "bun:test";
import { renderStatus } from "../../src/cli/_status-output.ts";
import type { StatusDestination, StatusView } from "../../src/plan/status.ts";

const drain = { started_at: "2026-12-03T10:15:00.000Z", deadline: "2026-12-03T10:20:00.000Z" };
const row = (destination: string, extra: Partial<StatusDestination>): StatusDestination => ({
  destination,
  backend: null,
  forward: "nat",
  weight: 0,
  configured_weight: null,
  health: "disabled",
  active_connections: 0,
  inactive_connections: 0,
  persistent_connections: 0,
  ...extra,
});

describe("status text", () => {
  test("a draining destination reads 'draining' in its row; a service kept only for its drains says so; both listed after the table", () => {
    const view: StatusView = {
      daemon: true,
      services: [
        {
          service: "tcp:192.0.2.10:80",
          name: "web",
          scheduler: "wrr",
          persistent: false,
          missing: false,
          destinations: [
            row("10.0.0.1:80", { backend: "10.0.0.1:80", weight: 1, configured_weight: 1, health: "healthy" }),
            row("10.0.0.2:80", { active_connections: 3, draining: { ...drain, connections: 3 } }),
          ],
        },
        { service: "tcp:192.0.2.10:8080", name: null, scheduler: "wlc", persistent: false, missing: false, stale: true, destinations: [row("10.0.0.3:8080", { active_connections: 1, draining: { ...drain, connections: 1 } })] },
        { service: "tcp:192.0.2.10:9090", name: null, scheduler: "wlc", persistent: false, missing: false, stale: true, destinations: [row("10.0.0.4:9090", {})] },
      ],
    };
    const lines = renderStatus(view, false).split("\n");
    expect(lines.find((l) => l.includes("-> 10.0.0.2:80"))).toMatch(/Masq\s+0\s+-\s+draining\s+3\s+0$/);
    expect(lines.find((l) => l.includes("-> 10.0.0.1:80"))).toContain("healthy");
    expect(lines).toContain("TCP  192.0.2.10:8080 wlc REMOVED from config: draining");
    expect(lines).toContain("TCP  192.0.2.10:9090 wlc STALE: not in config");
    expect(lines.slice(-2)).toEqual([
      "  tcp:192.0.2.10:80 -> 10.0.0.2:80: 3 connection(s) left, since 2026-12-03T10:15:00.000Z, deleted by 2026-12-03T10:20:00.000Z at the latest",
      "  tcp:192.0.2.10:8080 -> 10.0.0.3:8080: 1 connection(s) left, since 2026-12-03T10:15:00.000Z, deleted by 2026-12-03T10:20:00.000Z at the latest",
    ]);
  });
});
