/**
 * Health-gated BGP announcements (bgp.enabled): after every reconcile, each announced VIP's route is added while
 * this director can serve it and removed otherwise (plan/announcements.ts decides). On SIGTERM every VIP is withdrawn
 * first and the daemon waits `bgp.drain_seconds` before it stops, so the routers move flows away before anything
 * goes. If lbctl dies (SIGKILL) its routes stay while the kernel table keeps forwarding; a restarted daemon adopts them.
 */

import { announcedVips } from "../config/bgp.ts";
import type { Config } from "../config/model.ts";
import type { KernelServiceEntry } from "../ipvs/types.ts";
import type { EventSink } from "../observability/events.ts";
import { announcements, type Announcement } from "../plan/announcements.ts";
import type { AnnouncementRoutes } from "../system/announce-routes.ts";

export interface BgpStatus {
  announced: string[];
  withdrawn: { vip: string; reason: string }[];
  error?: string;
}

/**
 * Follows between two listings of lbctl's routes. Between listings the announcer trusts the routes it added and
 * removed itself, so a tick that changes nothing costs no system call; a route changed by hand is repaired at the
 * next listing, and a failed change makes the next tick list again.
 */
export const FOLLOWS_PER_LISTING = 30;

export class BgpAnnouncer {
  #last: Announcement[] = [];
  #error: string | undefined;
  #enabled = false;
  /** lbctl's routes as last listed and changed since (main table: announced; local table: local), or unknown. */
  #announced: Set<string> | undefined;
  #local: Set<string> | undefined;
  #followsSinceListing = 0;

  constructor(
    private readonly routes: AnnouncementRoutes,
    private readonly events: EventSink,
  ) {}

  /**
   * Brings the routes to what the config, the kernel table and the last reconcile say. The table is asked for only
   * when BGP is on: after a reconcile that wrote, reading it is a dump of every service (seconds for a large table).
   */
  follow(config: Config, kernel: () => readonly KernelServiceEntry[], reconciled: boolean): void {
    const enabled = config.main.bgp.enabled;
    if (!enabled && !this.#enabled) return;
    try {
      if (++this.#followsSinceListing >= FOLLOWS_PER_LISTING) this.#forgetRoutes();
      const vips = enabled ? announcedVips(config) : [];
      this.#keepLocal(vips);
      const wanted = enabled ? announcements(config, vips, kernel(), reconciled) : [];
      const present = this.#announcedRoutes();
      for (const verdict of wanted) {
        if (verdict.announce && !present.has(verdict.vip)) {
          this.routes.add(verdict.vip);
          present.add(verdict.vip);
          this.events.emit({ type: "bgp-announcement", vip: verdict.vip, announced: true, reason: verdict.reason });
        } else if (!verdict.announce && present.has(verdict.vip)) {
          this.routes.remove(verdict.vip);
          present.delete(verdict.vip);
          this.events.emit({ type: "bgp-announcement", vip: verdict.vip, announced: false, reason: verdict.reason });
        } else if (!this.#last.some((last) => last.vip === verdict.vip)) {
          // First verdict on this VIP (a start, a new VIP): say where it stands even when nothing changes.
          this.events.emit({ type: "bgp-announcement", vip: verdict.vip, announced: verdict.announce, reason: verdict.reason });
        }
      }
      const keep = new Set(wanted.map((verdict) => verdict.vip));
      for (const vip of [...present]) {
        if (keep.has(vip)) continue;
        this.routes.remove(vip);
        present.delete(vip);
        this.events.emit({ type: "bgp-announcement", vip, announced: false, reason: enabled ? "no longer announced by the config" : "bgp disabled" });
      }
      this.#last = wanted;
      this.#enabled = enabled;
      this.#error = undefined;
    } catch (error) {
      // What the routes are after a failed change is unknown: list them again next time.
      this.#forgetRoutes();
      const message = `BGP announcements: ${(error as Error).message}`;
      if (message !== this.#error) this.events.emit({ type: "error", message });
      this.#error = message;
    }
  }

  /**
   * Every announced VIP is local (IPVS takes its packets) whether or not it is announced now, so flows the routers
   * still send during a withdrawal are served; a VIP the config no longer announces stops being local. On SIGTERM the
   * local routes stay, as the IPVS rules do: the director keeps serving what still reaches it.
   */
  #keepLocal(vips: readonly string[]): void {
    const local = (this.#local ??= new Set(this.routes.listLocal()));
    for (const vip of vips) {
      if (local.has(vip)) continue;
      this.routes.addLocal(vip);
      local.add(vip);
    }
    const wanted = new Set(vips);
    for (const vip of [...local]) {
      if (wanted.has(vip)) continue;
      this.routes.removeLocal(vip);
      local.delete(vip);
    }
  }

  #announcedRoutes(): Set<string> {
    return (this.#announced ??= new Set(this.routes.list()));
  }

  #forgetRoutes(): void {
    this.#announced = undefined;
    this.#local = undefined;
    this.#followsSinceListing = 0;
  }

  /** SIGTERM: withdraws every VIP now; the caller waits `bgp.drain_seconds` before stopping. */
  withdrawAll(reason: string): number {
    if (!this.#enabled) return 0;
    let withdrawn = 0;
    this.#forgetRoutes();
    try {
      for (const vip of this.routes.list()) {
        this.routes.remove(vip);
        withdrawn++;
        this.events.emit({ type: "bgp-announcement", vip, announced: false, reason });
      }
    } catch (error) {
      this.events.emit({ type: "error", message: `BGP announcements: ${(error as Error).message}` });
    }
    this.#last = this.#last.map((verdict) => ({ ...verdict, announce: false, reason }));
    return withdrawn;
  }

  status(): BgpStatus | undefined {
    if (!this.#enabled) return undefined;
    return {
      announced: this.#last.filter((v) => v.announce).map((v) => v.vip),
      withdrawn: this.#last.filter((v) => !v.announce).map(({ vip, reason }) => ({ vip, reason })),
      ...(this.#error ? { error: this.#error } : {}),
    };
  }
}
