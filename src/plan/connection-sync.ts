/**
 * Which IPVS connection-sync daemons (ip_vs_sync) a director should run, and what to start or stop to get there.
 * The backup role always runs, so a director that takes a VIP over already holds the flows its peer announced; the
 * master role runs while this director holds a managed VIP. The kernel runs both at once, and a master never hears
 * its own messages (the sync socket turns multicast loopback off), so an active/active pair runs both on each side.
 */

import { sameSettings } from "../config/connection-sync.ts";
import type { SyncDaemonSettings, SyncDaemonState } from "../ipvs/types.ts";

/** The daemons this director should run: none when sync is off; backup always; master while it holds a VIP. */
export function desiredSyncDaemons(settings: Omit<SyncDaemonSettings, "state"> | undefined, holdsVip: boolean): SyncDaemonSettings[] {
  if (!settings) return [];
  const backup: SyncDaemonSettings = { ...settings, state: "backup" };
  return holdsVip ? [{ ...settings, state: "master" }, backup] : [backup];
}

export interface SyncDaemonActions {
  /** Roles to stop first: not wanted, or running with other settings (the kernel cannot change them in place). */
  stop: SyncDaemonState[];
  start: SyncDaemonSettings[];
}

/**
 * What turns `running` into `desired`. `owned` are the roles lbctl started: a role it does not want is stopped only
 * if it is lbctl's, so a sync daemon an operator (or keepalived) runs is left alone while lbctl's sync is off.
 */
export function syncDaemonActions(desired: readonly SyncDaemonSettings[], running: readonly SyncDaemonSettings[], owned: ReadonlySet<SyncDaemonState>): SyncDaemonActions {
  const actions: SyncDaemonActions = { stop: [], start: [] };
  for (const state of ["master", "backup"] as const) {
    const want = desired.find((d) => d.state === state);
    const have = running.find((r) => r.state === state);
    if (have && (want ? !sameSettings(want, have) : owned.has(state))) actions.stop.push(state);
    if (want && (!have || !sameSettings(want, have))) actions.start.push(want);
  }
  return actions;
}
