/** What `lbctl doctor` checks return, and the one interface through which checks see the host (faked in tests). */

import type { Config } from "../../config/model.ts";
import type { SyncDaemonSettings } from "../../ipvs/types.ts";
import type { LinkInfo } from "../frr/links.ts";

export type CheckStatus = "pass" | "warn" | "fail";

/** One line of the report; `fix` is the command or key that fixes a warn/fail, null on pass. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
  fix: string | null;
}

export const pass = (name: string, message: string): CheckResult => ({ name, status: "pass", message, fix: null });
export const warn = (name: string, message: string, fix: string): CheckResult => ({ name, status: "warn", message, fix });
export const fail = (name: string, message: string, fix: string): CheckResult => ({ name, status: "fail", message, fix });

export type IpvsProbe =
  | { ok: true; version: string; connTabSize: number }
  | { ok: false; reason: "library" | "family" | "other"; message: string };

export type HealthProbe = { ok: true; status: number; body: string } | { ok: false; error: string };

/** Everything doctor reads from the host. Each method answers, never throws. */
export interface HostProbe {
  /** `uname -r`. */
  kernelRelease(): string;
  /** A file's text, or undefined when it is absent or unreadable. */
  readText(path: string): string | undefined;
  exists(path: string): boolean;
  /** One IPVS GET_INFO over generic netlink. */
  ipvsInfo(): IpvsProbe;
  /** The kernel's IPVS connection-sync daemons (IPVS_CMD_GET_DAEMON), or the error asking for them. */
  syncDaemons(): SyncDaemonSettings[] | Error;
  /** BGP session states by neighbour address (`vtysh -c 'show bgp summary json'`), or why they cannot be read. */
  bgpPeers(): Map<string, string> | Error;
  /** Opens libnl-3 and libnl-genl-3; the error message when one cannot be loaded. */
  libnlError(): string | undefined;
  /** Every address on a local interface, or the error reading them. */
  localAddresses(): Set<string> | Error;
  /** Links with their addresses (`ip -json -details address show`), undefined when `ip` is not there. */
  links(): LinkInfo[] | undefined;
  /** Names (comm) of the running processes. */
  processNames(): Set<string>;
  daemonAnswers(socket: string): Promise<boolean>;
  /** GET http://host:port/health. */
  httpHealth(host: string, port: number): Promise<HealthProbe>;
  /** Name (comm) of the process listening on a TCP port, when /proc tells. */
  tcpListenerOwner(port: number): string | undefined;
}

export interface DoctorContext {
  probe: HostProbe;
  configPath: string;
  /** The loaded config; undefined when it could not be loaded (checks that need it then say so). */
  config: Config | undefined;
}
