/**
 * The kernel routes through which the daemon serves and announces VIPs (bgp.enabled), all with routing protocol 250
 * ("lbctl"), written over NETLINK_ROUTE by lbctl itself (the same messages as `ip route replace|del ... proto 250`):
 * - a `local` route in the local table for every announced VIP, kept as long as the config announces it: the
 *   director takes the VIP's packets (IPVS sees them) without the VIP being an interface address. An address would
 *   give zebra a connected route for the VIP, which would always win over the route below and never go away;
 * - a unicast route `VIP/32 dev lo` in the main table while this director can serve the VIP: zebra sees it as a
 *   kernel route, and the managed FRR block redistributes exactly these VIPs. Removing it withdraws the VIP.
 * A withdrawal is one request and its acknowledgement; starting `ip` for it took 170 ms in the emulated lab guest.
 */

import { errnoName } from "../ipvs/errors.ts";
import { decodeRoutes, encodeGetRoutes, encodeRouteChange, type RouteChange, type RouteTable } from "./rtnetlink/routes.ts";
import { RtnetlinkSocket } from "./rtnetlink-socket.ts";

/** rtm_protocol of lbctl's routes (253-255 and 0-4 are the kernel's; FRR uses 186-196). */
export const LBCTL_ROUTE_PROTOCOL = 250;

const ESRCH = 3;

export class RouteCommandError extends Error {
  override readonly name = "RouteCommandError";
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

export class NetlinkAnnouncementRoutes implements AnnouncementRoutes {
  readonly #socket = new RtnetlinkSocket("lbctl's routes", true);

  list(): string[] {
    return this.#listed("main");
  }
  add(vip: string): void {
    this.#change({ vip, table: "main", operation: "replace", protocol: LBCTL_ROUTE_PROTOCOL });
  }
  remove(vip: string): void {
    this.#change({ vip, table: "main", operation: "delete", protocol: LBCTL_ROUTE_PROTOCOL });
  }
  listLocal(): string[] {
    return this.#listed("local");
  }
  addLocal(vip: string): void {
    this.#change({ vip, table: "local", operation: "replace", protocol: LBCTL_ROUTE_PROTOCOL });
  }
  removeLocal(vip: string): void {
    this.#change({ vip, table: "local", operation: "delete", protocol: LBCTL_ROUTE_PROTOCOL });
  }

  close(): void {
    this.#socket.close();
  }

  #listed(table: RouteTable): string[] {
    const vips: string[] = [];
    this.#socket.dump(
      (seq, port) => encodeGetRoutes(LBCTL_ROUTE_PROTOCOL, seq, port),
      (datagram, seq) => {
        const chunk = decodeRoutes(datagram, seq, LBCTL_ROUTE_PROTOCOL);
        vips.push(...chunk[table]);
        return chunk.done;
      },
    );
    return vips;
  }

  #change(change: RouteChange): void {
    const errno = this.#socket.request((seq, port) => encodeRouteChange(change, seq, port));
    // A route already gone is what a delete wants (removed by hand, or by the kernel with its interface).
    if (errno === 0 || (errno === ESRCH && change.operation === "delete")) return;
    const route = `${change.table === "local" ? "local " : ""}${change.vip} dev lo table ${change.table} proto ${LBCTL_ROUTE_PROTOCOL}`;
    throw new RouteCommandError(`${change.operation === "replace" ? "adding" : "deleting"} the route ${route}: the kernel refused (${errnoName(errno)})`);
  }
}
