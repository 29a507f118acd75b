/**
 * The kernel's view of IPVS, as lbctl reads and writes it. These types are the contract between the
 * pure planner (src/plan) and the netlink client (src/ipvs/client.ts); nothing here does I/O.
 */

/** Address family as lbctl names it; the codec maps it to AF_INET (2) / AF_INET6 (10). */
export type Family = 4 | 6;

export type Protocol = "tcp" | "udp" | "sctp";

/** Forwarding method of a destination (IP_VS_CONN_F_FWD_MASK); `local` and `bypass` are only ever read. */
export type ForwardMethod = "nat" | "dr" | "tun" | "local" | "bypass";

/** IP_VS_SVC_F_* bits. */
export const ServiceFlag = {
  persistent: 0x0001,
  hashed: 0x0002,
  onePacket: 0x0004,
  sched1: 0x0008,
  sched2: 0x0010,
  sched3: 0x0020,
} as const;

/** Counters of IPVS_SVC_ATTR_STATS64 / IPVS_DEST_ATTR_STATS64 (rates are per second, as the kernel estimates them). */
export interface IpvsStats {
  connections: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  cps: number;
  ppsIn: number;
  ppsOut: number;
  bpsIn: number;
  bpsOut: number;
}

/** Identity of an address-based virtual service (fwmark services are never written by lbctl). */
export interface ServiceKey {
  family: Family;
  protocol: Protocol;
  address: string;
  port: number;
}

/** Everything lbctl sets on a virtual service. */
export interface ServiceSpec extends ServiceKey {
  scheduler: string;
  /** IP_VS_SVC_F_* bits that lbctl manages (persistent, one-packet, scheduler flags); `hashed` is the kernel's. */
  flags: number;
  /** Persistence timeout in seconds (meaningful only with the persistent flag). */
  timeout: number;
  /**
   * Persistence netmask: a prefix length's mask as the kernel stores it (0xffffffff for IPv4 /32, 128 for IPv6).
   * IPv4: the mask as a number read most significant byte first (/24 is 0xffffff00). IPv6: the prefix length, 1-128
   * (the kernel refuses 0 for an IPv6 service even when it is not persistent).
   */
  netmask: number;
  /** Persistence engine, e.g. "sip"; empty when none. */
  persistenceEngine: string;
}

/** A virtual service as the kernel reports it. `fwmark` is non-zero for fwmark services (address/port then empty). */
export interface KernelService extends ServiceSpec {
  fwmark: number;
  stats?: IpvsStats;
}

export interface DestinationKey {
  address: string;
  port: number;
}

export interface TunnelSettings {
  type: "ipip" | "gue" | "gre";
  port: number;
  flags: number;
}

/** Everything lbctl sets on a destination (real server). */
export interface DestinationSpec extends DestinationKey {
  family: Family;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnel?: TunnelSettings;
}

export interface KernelDestination extends DestinationSpec {
  activeConnections: number;
  inactiveConnections: number;
  persistentConnections: number;
  stats?: IpvsStats;
}

/** One virtual service with its destinations, as a full dump returns them. */
export interface KernelServiceEntry {
  service: KernelService;
  destinations: KernelDestination[];
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  connectionTableSize: number;
}

/** IPVS connection timeouts in seconds (0 in a SET means "leave unchanged"). */
export interface IpvsTimeouts {
  tcp: number;
  tcpFin: number;
  udp: number;
}

/** One kernel write. The reconciler builds these from a plan and inverts them for rollback. */
export type IpvsOperation =
  | { kind: "new-service"; service: ServiceSpec }
  | { kind: "set-service"; service: ServiceSpec }
  | { kind: "del-service"; service: ServiceKey }
  | { kind: "new-destination"; service: ServiceKey; destination: DestinationSpec }
  | { kind: "set-destination"; service: ServiceKey; destination: DestinationSpec }
  | { kind: "del-destination"; service: ServiceKey; destination: DestinationKey & { family: Family } };

/**
 * Outcome of a batch. Requests are pipelined, so when the kernel refuses one, a few later ones may already have been
 * sent and accepted: `succeeded` lists exactly the indexes the kernel acknowledged, for an exact rollback.
 */
export type BatchResult =
  | { ok: true }
  | { ok: false; succeeded: readonly number[]; failedIndex: number; error: Error };

export interface DumpOptions {
  /** Decode the counters (default true). A plan reads none: without them a large dump decodes faster. */
  stats?: boolean;
}

/** The IPVS client the planner/reconciler/daemon talk to; the real one speaks generic netlink through libnl. */
export interface IpvsClient {
  info(): IpvsInfo;
  /** Every virtual service with its destinations (and statistics unless `stats` is false). */
  dump(options?: DumpOptions): KernelServiceEntry[];
  listServices(): KernelService[];
  listDestinations(service: ServiceKey): KernelDestination[];
  /**
   * Executes operations in order, many per send with a bounded window, and stops sending at the first refusal.
   */
  execute(operations: readonly IpvsOperation[]): BatchResult;
  getTimeouts(): IpvsTimeouts;
  setTimeouts(timeouts: IpvsTimeouts): void;
  close(): void;
}

/** Role of an IPVS connection-synchronisation daemon (IP_VS_STATE_MASTER / IP_VS_STATE_BACKUP). */
export type SyncDaemonState = "master" | "backup";

/** A kernel connection-sync daemon (IPVS_CMD_ATTR_DAEMON); the optional fields need Linux 4.3 or later. */
export interface SyncDaemonSettings {
  state: SyncDaemonState;
  /** Interface the sync messages use (IPVS_DAEMON_ATTR_MCAST_IFN). */
  interface: string;
  syncId: number;
  /** Largest UDP payload of a sync message. */
  maxLength?: number;
  /** Multicast group, IPv4 or IPv6. */
  group?: string;
  port?: number;
  ttl?: number;
}

/** The part of the admin client that runs the kernel's connection-sync daemons. */
export type SyncDaemonKernel = Pick<IpvsAdminClient, "startSyncDaemon" | "stopSyncDaemon" | "listSyncDaemons">;

/**
 * What the real client offers beyond the reconciler's contract: counter reset, flush and the sync daemon. Kept apart so
 * fakes of IpvsClient need not implement them; the reconciler never flushes.
 */
export interface IpvsAdminClient extends IpvsClient {
  /** Zeroes the counters of one service, or of every service when none is given. */
  zero(service?: ServiceKey): void;
  /** Deletes every virtual service and destination. */
  flush(): void;
  startSyncDaemon(settings: SyncDaemonSettings): void;
  stopSyncDaemon(state: SyncDaemonState): void;
  listSyncDaemons(): SyncDaemonSettings[];
}
