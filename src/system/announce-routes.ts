/**
 * The kernel routes through which the daemon tells FRR what to announce (bgp.enabled): a VIP's /32 (/128) in the main
 * table, through `lo`, with routing protocol 250 ("lbctl"). zebra sees every kernel route, and the managed FRR block
 * redistributes exactly these VIPs. The VIP itself stays a local address of the director (on `lo`), so the route
 * decides nothing about delivery here. Through iproute2's `ip`, as every host that runs FRR has it.
 */

import { addressFamily } from "../config/model.ts";

/** rtm_protocol of lbctl's routes (253-255 and 0-4 are the kernel's; FRR uses 186-196). */
export const LBCTL_ROUTE_PROTOCOL = 250;

export class RouteCommandError extends Error {
  override readonly name = "RouteCommandError";
}

const prefix = (vip: string) => `${vip}/${addressFamily(vip) === 6 ? 128 : 32}`;

function ip(args: string[]): string {
  const proc = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new RouteCommandError(`ip ${args.join(" ")}: ${proc.stderr.toString().trim() || `exit ${proc.exitCode}`}`);
  return proc.stdout.toString();
}

export interface AnnouncementRoutes {
  /** The VIPs that have lbctl's route now. */
  list(): string[];
  add(vip: string): void;
  remove(vip: string): void;
}

export const ipAnnouncementRoutes: AnnouncementRoutes = {
  list() {
    const vips: string[] = [];
    for (const family of ["-4", "-6"]) {
      const routes = JSON.parse(ip(["-j", family, "route", "show", "table", "main", "proto", String(LBCTL_ROUTE_PROTOCOL)]) || "[]") as { dst?: unknown }[];
      for (const route of routes) if (typeof route.dst === "string") vips.push(route.dst.replace(/\/(32|128)$/, ""));
    }
    return vips;
  },
  add(vip) {
    ip([addressFamily(vip) === 6 ? "-6" : "-4", "route", "replace", prefix(vip), "dev", "lo", "table", "main", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
  remove(vip) {
    ip([addressFamily(vip) === 6 ? "-6" : "-4", "route", "del", prefix(vip), "table", "main", "proto", String(LBCTL_ROUTE_PROTOCOL)]);
  },
};
