/**
 * `ha.connection_sync` resolved into the settings of the kernel's IPVS sync daemons (defaults filled in from the
 * frontend interface and the VRRP id), and how to tell whether a running sync daemon has them. The daemon
 * (plan/connection-sync.ts, daemon/connection-sync.ts) and `lbctl doctor` judge the kernel by the same rules.
 */

import type { SyncDaemonSettings } from "../ipvs/types.ts";
import type { MainFile } from "./schema/main.ts";

/** The settings both roles share, resolved from `ha.connection_sync` and its defaults; undefined when off. */
export function connectionSyncSettings(main: MainFile): Omit<SyncDaemonSettings, "state"> | undefined {
  const sync = main.ha.connection_sync;
  if (!sync.enabled) return undefined;
  const iface = sync.interface ?? main.network.frontend.interface;
  if (iface === undefined) return undefined;
  return { interface: iface, syncId: sync.sync_id ?? main.vrrp?.vrid ?? 0, group: sync.mcast_group, port: sync.port, ttl: sync.ttl };
}

/**
 * Whether the kernel's daemon runs with the wanted settings. Fields lbctl left unset (the kernel picks them, e.g. the
 * message length from the interface MTU) are not compared; group text is compared in canonical form.
 */
export function sameSettings(want: SyncDaemonSettings, have: SyncDaemonSettings): boolean {
  return (
    want.state === have.state &&
    want.interface === have.interface &&
    want.syncId === have.syncId &&
    (want.group === undefined || have.group === undefined || want.group === have.group) &&
    (want.port === undefined || have.port === undefined || want.port === have.port) &&
    (want.ttl === undefined || have.ttl === undefined || want.ttl === have.ttl) &&
    (want.maxLength === undefined || want.maxLength === have.maxLength)
  );
}
