/** `lbctl status` for people: a table in the spirit of `ipvsadm -Ln`, with configured weight and health. */

import { formatDuration } from "../config/duration.ts";
import type { BackendOverride } from "../plan/overrides.ts";
import type { StatusView } from "../plan/status.ts";

const FORWARD_NAMES: Record<string, string> = { nat: "Masq", dr: "Route", tun: "Tunnel", local: "Local", bypass: "Bypass" };

export function renderStatus(view: StatusView, stats: boolean): string {
  if (view.services.length === 0) return "No virtual services on the managed VIPs.";
  const lines: string[] = [];
  const source = view.daemon ? "daemon" : "kernel (no daemon: health unknown)";
  lines.push(`Source: ${source}`);
  if (view.vips?.length) lines.push(`VIPs: ${view.vips.map((v) => `${v.vip} ${v.held ? "held (active)" : "not held (standby)"}`).join(", ")}`);
  const rows: string[][] = [["Service / destination", "Forward", "Weight", "Config", "Health", "ActiveConn", "InActConn"]];
  for (const service of view.services) {
    const draining = service.destinations.some((d) => d.draining);
    const stale = service.stale ? (draining ? "REMOVED from config: draining" : "STALE: not in config") : "";
    const flags = [service.scheduler, service.persistent ? "persistent" : "", service.missing ? "MISSING in kernel" : "", stale]
      .filter(Boolean)
      .join(" ");
    rows.push([`${service.service.toUpperCase().replace(/^(TCP|UDP):/, "$1  ")} ${flags}${service.name ? ` (${service.name})` : ""}`, "", "", "", "", "", ""]);
    for (const d of service.destinations) {
      rows.push([
        `  -> ${d.destination}${d.missing ? " MISSING" : ""}${d.override ? ` ${overrideNote(d.override)}` : ""}${d.slow_start ? ` [slow start, ${d.slow_start.remaining_seconds}s left]` : ""}${d.sorry_server ? " [sorry server: below quorum]" : ""}`,
        FORWARD_NAMES[d.forward] ?? d.forward,
        d.weight === null ? "-" : String(d.weight),
        d.configured_weight === null ? "-" : String(d.configured_weight),
        d.draining ? "draining" : d.health,
        String(d.active_connections),
        String(d.inactive_connections),
      ]);
    }
    if (stats && service.stats) {
      const s = service.stats;
      rows.push([`     conns ${s.connections}  pkts in/out ${s.packets_in}/${s.packets_out}  bytes in/out ${s.bytes_in}/${s.bytes_out}`, "", "", "", "", "", ""]);
    }
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.filter((r) => r[1] !== "" || col === 0).map((r) => (col === 0 && r[1] === "" ? 0 : r[col]!.length))));
  for (const row of rows) {
    if (row[1] === "" && row !== rows[0]) lines.push(row[0]!);
    else lines.push(row.map((cell, col) => (col === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[col]!))).join("  "));
  }
  const drains = view.services.flatMap((service) => service.destinations.filter((d) => d.draining).map((d) => ({ service: service.service, d })));
  if (drains.length > 0) lines.push("", `Draining (removed from the config, weight 0, deleted once their connections end):`);
  for (const { service, d } of drains) {
    lines.push(`  ${service} -> ${d.destination}: ${d.draining!.connections} connection(s) left, since ${d.draining!.started_at}, deleted by ${d.draining!.deadline} at the latest`);
  }
  return lines.join("\n");
}

/** `[drained by alice, 14m left]`, `[weight 3 (forced) by bob]`: an operator's override, beside its destination. */
export function overrideNote(override: BackendOverride, wallNow = Date.now()): string {
  const what = override.kind === "drain" ? "drained" : `weight ${override.weight}${override.force ? " (forced)" : ""}`;
  const who = override.by.sudo_user && override.by.sudo_user !== override.by.user ? `${override.by.user} (sudo ${override.by.sudo_user})` : override.by.user;
  const left = override.expires_at === undefined ? "" : `, ${formatDuration(override.expires_at - wallNow)} left`;
  return `[${what} by ${who}${left}]`;
}
