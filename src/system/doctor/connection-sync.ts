/**
 * `ha.connection_sync`: does the kernel run the sync daemons the daemon should have started? Backup always; master
 * while this host holds a managed VIP. Silent when the key is off.
 */

import { connectionSyncSettings, sameSettings } from "../../config/connection-sync.ts";
import { configuredVips } from "../../config/model.ts";
import type { SyncDaemonSettings, SyncDaemonState } from "../../ipvs/types.ts";
import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

const NAME = "connection sync";

export function checkConnectionSync(ctx: DoctorContext): CheckResult[] {
  const { probe, config } = ctx;
  const settings = config && connectionSyncSettings(config.main);
  if (!settings) return [];
  if (probe.readText(`/sys/class/net/${settings.interface}/ifindex`) === undefined && !probe.exists(`/sys/class/net/${settings.interface}`)) {
    return [fail(NAME, `interface ${settings.interface} does not exist: the kernel cannot send or receive sync messages`, "set ha.connection_sync.interface to the link the directors share")];
  }
  const running = probe.syncDaemons();
  if (running instanceof Error) return [fail(NAME, `cannot list the kernel's sync daemons: ${running.message}`, "run lbctl doctor as root on a host with IPVS")];
  const local = probe.localAddresses();
  const holds = !(local instanceof Error) && configuredVips(config).some((vip) => local.has(vip));
  const describe = (state: SyncDaemonState) => `${state} on ${settings.interface}, sync id ${settings.syncId}, ${settings.group}:${settings.port}`;
  const results: CheckResult[] = [];
  for (const state of holds ? (["backup", "master"] as const) : (["backup"] as const)) {
    const want: SyncDaemonSettings = { ...settings, state };
    const have = running.find((r) => r.state === state);
    if (have && sameSettings(want, have)) results.push(pass(`${NAME} ${state}`, `the kernel runs the ${describe(state)}`));
    else if (have) results.push(fail(`${NAME} ${state}`, `the kernel's ${state} sync daemon runs on ${have.interface} with sync id ${have.syncId}, not as configured (${describe(state)})`, "the lbctl daemon replaces it within one reconcile interval: is it running? (systemctl status lbctl)"));
    else results.push(fail(`${NAME} ${state}`, `no ${state} sync daemon in the kernel (wanted: ${describe(state)})`, "the lbctl daemon starts it within one reconcile interval: is it running? (systemctl status lbctl)"));
  }
  if (!holds && running.some((r) => r.state === "master")) {
    results.push(warn(`${NAME} master`, "a master sync daemon runs, but this host holds no managed VIP", "the lbctl daemon stops its own master within one reconcile interval; another one belongs to whoever started it (ipvsadm --stop-daemon master)"));
  }
  return results;
}
