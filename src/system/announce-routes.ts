/**
 * The kernel routes through which the daemon serves and announces VIPs (bgp.enabled), all with routing protocol 250
 * ("lbctl"), through iproute2's `ip`, as every host that runs FRR has it:
 * - a `local` route in the local table for every announced VIP, kept as long as the config announces it: the
 *   director takes the VIP's packets (IPVS sees them) without the VIP being an interface address. An address would
 *   give zebra a connected route for the VIP, which would always win over the route below and never go away;
 * - a unicast route `VIP/32 dev lo` in the main table while this director can serve the VIP: zebra sees it as a
 *   kernel route, and the managed FRR block redistributes exactly these VIPs. Removing it withdraws the VIP.
 */

import { addressFamily } from "../config/model.ts";

/** rtm_protocol of lbctl's routes (253-255 and 0-4 are the kernel's; FRR uses 186-196). */
export const LBCTL_ROUTE_PROTOCOL = 250;

export class RouteCommandError extends Error {
  override readonly name = "RouteCommandError";
}

const prefix = (vip: string) => `${vip}/${addressFamily(vip) === 6 ? 128 : 32}`;
const family = (vip: string) => (addressFamily(vip) === 6 ? "-6" : "-4");

function ip(args: string[]): string {
  const proc = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new RouteCommandError(`ip ${args.join(" ")}: ${proc.stderr.toString().trim() || `exit ${proc.exitCode}`}`);
  return proc.stdout.toString();
}

function listed(table: "main" | "local"): string[] {
  const vips: string[] = [];
  for (const flag of ["-4", "-6"]) {
    const routes = JSON.parse(ip(["-j", flag, "route", "show", "table", table, "proto", String(LBCTL_ROUTE_PROTOCOL)]) || "[]") as { dst?: unknown }[];
    for (const route of routes) if (typeof route.dst === "string") vips.push(route.dst.replace(/\/(32|128)$/, ""));
  }
  return vips;
}

export interface AnnouncementRoutes {
  /** The VIPs announced now (lbctl's route in the main table). */
  list(): string[];
  add(vip: string): void;
  remove(vip: string): void;
  /** The VIPs lbctl makes local (its `local` route in the local table). */
  listLocal(): string[];
  addLocal(vip: string): void;
  removeLocal(vip: string): void;
}

export const ipAnnouncementRoutes: AnnouncementRoutes = {
  list: () => listed("main"),
  add(vip) {
    ip([family(vip), "route", "replace", prefix(vip), "dev", "lo", "table", "main", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
  remove(vip) {
    ip([family(vip), "route", "del", prefix(vip), "table", "main", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
  listLocal: () => listed("local"),
  addLocal(vip) {
    ip([family(vip), "route", "replace", "local", prefix(vip), "dev", "lo", "table", "local", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
  removeLocal(vip) {
    ip([family(vip), "route", "del", "local", prefix(vip), "dev", "lo", "table", "local", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
};
