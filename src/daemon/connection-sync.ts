/**
 * Keeps the kernel's IPVS connection-sync daemons (ha.connection_sync) as plan/connection-sync.ts says: called after
 * every reconcile, so the master role follows VIP ownership within one reconcile interval, and a role someone
 * stopped (`ipvsadm --stop-daemon`) is started again. The daemons outlive lbctl, as the rules do: a restarted lbctl
 * adopts the ones that match its config.
 */

import type { MainFile } from "../config/schema/main.ts";
import type { IpvsClient, SyncDaemonKernel, SyncDaemonSettings, SyncDaemonState } from "../ipvs/types.ts";
import type { EventSink } from "../observability/events.ts";
import { connectionSyncSettings, sameSettings } from "../config/connection-sync.ts";
import { desiredSyncDaemons, syncDaemonActions } from "../plan/connection-sync.ts";

export interface ConnectionSyncStatus {
  enabled: boolean;
  interface?: string;
  sync_id?: number;
  /** The roles running now for lbctl, as last read from the kernel. */
  master: boolean;
  backup: boolean;
  /** Why the last attempt failed, while it keeps failing. */
  error?: string;
}

/** The kernel side of connection sync when `ipvs` can run sync daemons (the real netlink client), else undefined. */
export function syncDaemonKernel(ipvs: IpvsClient): SyncDaemonKernel | undefined {
  const candidate = ipvs as Partial<SyncDaemonKernel>;
  return typeof candidate.listSyncDaemons === "function" && typeof candidate.startSyncDaemon === "function" && typeof candidate.stopSyncDaemon === "function"
    ? (candidate as SyncDaemonKernel)
    : undefined;
}

export class ConnectionSync {
  /** Roles lbctl started or adopted: the only ones it ever stops. */
  readonly #owned = new Set<SyncDaemonState>();
  #running: SyncDaemonSettings[] = [];
  #settings: Omit<SyncDaemonSettings, "state"> | undefined;
  #error: string | undefined;

  constructor(
    private readonly kernel: SyncDaemonKernel | undefined,
    private readonly events: EventSink,
  ) {}

  /** Brings the kernel's sync daemons to what `main` asks while this director holds (or not) a managed VIP. */
  follow(main: MainFile, holdsVip: boolean): void {
    const settings = (this.#settings = connectionSyncSettings(main));
    // Off and never on: not even a read, so a sync daemon lbctl does not manage costs nothing and is left alone.
    if (!settings && this.#owned.size === 0) return;
    if (!this.kernel) return this.#fail("connection sync needs the kernel's IPVS through netlink, which this daemon does not use");
    try {
      const running = this.kernel.listSyncDaemons();
      const desired = desiredSyncDaemons(settings, holdsVip);
      for (const want of desired) if (running.some((have) => sameSettings(want, have))) this.#owned.add(want.state);
      const actions = syncDaemonActions(desired, running, this.#owned);
      for (const state of actions.stop) {
        const have = running.find((r) => r.state === state)!;
        this.kernel.stopSyncDaemon(state);
        this.#owned.delete(state);
        const reason = !settings ? "disabled" : desired.some((d) => d.state === state) ? "settings changed" : "VIP released";
        this.#report(have, false, reason);
      }
      for (const want of actions.start) {
        const found = running.some((r) => r.state === want.state);
        const reason = found ? "settings changed" : this.#owned.has(want.state) ? "found stopped" : want.state === "master" ? "VIP held" : "enabled";
        this.kernel.startSyncDaemon(want);
        this.#owned.add(want.state);
        this.#report(want, true, reason);
      }
      this.#running = actions.start.length || actions.stop.length ? this.kernel.listSyncDaemons() : running;
      this.#error = undefined;
    } catch (error) {
      this.#fail(`Connection sync: ${(error as Error).message}`);
    }
  }

  status(): ConnectionSyncStatus | undefined {
    const settings = this.#settings;
    if (!settings && this.#owned.size === 0) return undefined;
    const runs = (state: SyncDaemonState) => this.#owned.has(state) && this.#running.some((r) => r.state === state);
    return {
      enabled: settings !== undefined,
      ...(settings ? { interface: settings.interface, sync_id: settings.syncId } : {}),
      master: runs("master"),
      backup: runs("backup"),
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  #report(daemon: SyncDaemonSettings, running: boolean, reason: string): void {
    this.events.emit({ type: "connection-sync", role: daemon.state, running, interface: daemon.interface, syncId: daemon.syncId, reason });
  }

  /** Reports a failure once while it lasts (the next reconcile retries), not once a second. */
  #fail(message: string): void {
    if (message !== this.#error) this.events.emit({ type: "error", message });
    this.#error = message;
  }
}
