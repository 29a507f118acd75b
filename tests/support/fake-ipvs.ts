/**
 * An in-memory IPVS kernel for unit tests of the planner, reconciler and daemon. It answers our operations as the
 * kernel does (tests/ipvs/contract.test.ts runs the same contract suite against it that tests/lab/ipvs-contract.test.ts
 * runs against a real kernel): the same refusals with the same errors, the same batch semantics, the same dumps.
 * It can also be told to refuse one specific operation. The kernel lab tests the real thing.
 */

import { DEFAULT_WINDOW } from "../../src/ipvs/client.ts";
import { formatDestinationKey, formatServiceKey } from "../../src/ipvs/identity.ts";
import { operationRefused } from "../../src/ipvs/operations.ts";
import type {
  BatchResult,
  IpvsClient,
  IpvsInfo,
  IpvsOperation,
  IpvsStats,
  IpvsTimeouts,
  KernelDestination,
  KernelService,
  KernelServiceEntry,
  ServiceKey,
  ServiceSpec,
} from "../../src/ipvs/types.ts";

/** The scheduler modules Debian 12's kernel ships (no ip_vs_twos), as the lab guest has them. */
const SCHEDULERS = new Set(["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"]);
/** What a fresh network namespace starts with (the kernel's defaults). */
const DEFAULT_TIMEOUTS: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
/** The kernel's own flag (IP_VS_SVC_F_HASHED), which the client never reports. */
const HASHED = 0x0002;

/** The errnos the kernel answers our writes with (ip_vs_ctl.c). */
const ENOENT = 2;
const ESRCH = 3;
const EEXIST = 17;
const EINVAL = 22;

export interface FakeKernelOptions {
  /** Requests per send, as the real client's window (default the same, DEFAULT_WINDOW). */
  window?: number;
}

const zeroStats = (): IpvsStats => ({ connections: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, cps: 0, ppsIn: 0, ppsOut: 0, bpsIn: 0, bpsOut: 0 });

export class FakeKernel implements IpvsClient {
  readonly services = new Map<string, KernelServiceEntry>();
  /** Every operation the kernel accepted, in order. */
  readonly log: IpvsOperation[] = [];
  /** Refuse the operation for which this returns a message (a plain Error), as if the kernel had. */
  refuse?: (operation: IpvsOperation) => string | undefined;
  dumps = 0;
  timeouts: IpvsTimeouts = { ...DEFAULT_TIMEOUTS };
  readonly #window: number;

  constructor(options: FakeKernelOptions = {}) {
    this.#window = options.window ?? DEFAULT_WINDOW;
  }

  info(): IpvsInfo {
    return { version: "1.2.1", connectionTableSize: 4096 };
  }

  dump(): KernelServiceEntry[] {
    this.dumps++;
    return [...this.services.values()].map((e) => structuredClone(e));
  }

  listServices(): KernelService[] {
    return this.dump().map((e) => e.service);
  }

  /** A service that does not exist has no destinations (the kernel's dump is empty, not an error). */
  listDestinations(service: ServiceKey): KernelDestination[] {
    return structuredClone(this.services.get(formatServiceKey(service))?.destinations ?? []);
  }

  /**
   * As the real client: operations go `window` to a send, and the kernel handles every request of a send in
   * order, so a refusal does not stop the requests after it in the same send; only the sends after it are not
   * made. `succeeded` lists what was accepted; `failedIndex` is the first refusal.
   */
  execute(operations: readonly IpvsOperation[]): BatchResult {
    const succeeded: number[] = [];
    let failure: { index: number; error: Error } | undefined;
    for (let first = 0; first < operations.length && failure === undefined; first += this.#window) {
      const last = Math.min(first + this.#window, operations.length) - 1;
      for (let index = first; index <= last; index++) {
        const operation = operations[index]!;
        const custom = this.refuse?.(operation);
        const error = custom !== undefined ? new Error(custom) : this.#apply(operation);
        if (error) {
          failure ??= { index, error };
          continue;
        }
        this.log.push(structuredClone(operation));
        succeeded.push(index);
      }
    }
    return failure === undefined ? { ok: true } : { ok: false, succeeded, failedIndex: failure.index, error: failure.error };
  }

  getTimeouts(): IpvsTimeouts {
    return { ...this.timeouts };
  }

  /** 0 leaves a timeout unchanged, as IPVS_CMD_SET_CONFIG does. */
  setTimeouts(timeouts: IpvsTimeouts): void {
    this.timeouts = {
      tcp: timeouts.tcp || this.timeouts.tcp,
      tcpFin: timeouts.tcpFin || this.timeouts.tcpFin,
      udp: timeouts.udp || this.timeouts.udp,
    };
  }

  close(): void {}

  /** Adds a service as another tool (ipvsadm, keepalived) would. */
  addForeign(service: KernelService, destinations: KernelDestination[] = []): void {
    this.services.set(formatServiceKey(service), { service: structuredClone(service), destinations: structuredClone(destinations) });
  }

  /** `ipvsadm -Sn`-like lines, sorted, for comparisons. */
  rules(): string[] {
    const lines: string[] = [];
    for (const { service, destinations } of this.services.values()) {
      const persistence = service.flags & 1 ? ` -p ${service.timeout}` : "";
      lines.push(`-A ${formatServiceKey(service)} -s ${service.scheduler}${persistence}`);
      for (const d of destinations) lines.push(`-a ${formatServiceKey(service)} -r ${formatDestinationKey(d)} -${d.forward} -w ${d.weight}`);
    }
    return lines.sort();
  }

  /** Applies one operation, or returns the error the real client reports for the kernel's refusal. */
  #apply(operation: IpvsOperation): Error | undefined {
    const refused = (errno: number) => operationRefused(operation, errno);
    const entry = this.services.get(formatServiceKey(operation.service));
    switch (operation.kind) {
      case "new-service": {
        if (entry) return refused(EEXIST);
        const invalid = serviceProblem(operation.service);
        if (invalid !== undefined) return refused(invalid);
        this.services.set(formatServiceKey(operation.service), { service: kernelService(operation.service, 0), destinations: [] });
        return undefined;
      }
      case "set-service": {
        if (!entry) return refused(ESRCH);
        const invalid = serviceProblem(operation.service);
        if (invalid !== undefined) return refused(invalid);
        entry.service = kernelService(operation.service, entry.service.fwmark, entry.service.stats);
        return undefined;
      }
      case "del-service":
        if (!entry) return refused(ESRCH);
        this.services.delete(formatServiceKey(operation.service));
        return undefined;
      default: {
        if (!entry) return refused(ESRCH);
        const key = formatDestinationKey(operation.destination);
        const index = entry.destinations.findIndex((d) => formatDestinationKey(d) === key);
        if (operation.kind === "new-destination") {
          if (index >= 0) return refused(EEXIST);
          entry.destinations.push({ ...destinationSettings(operation.destination), activeConnections: 0, inactiveConnections: 0, persistentConnections: 0, stats: zeroStats() });
        } else if (operation.kind === "set-destination") {
          if (index < 0) return refused(ENOENT);
          const { tunnel: _old, ...current } = entry.destinations[index]!;
          entry.destinations[index] = { ...current, ...destinationSettings(operation.destination) };
        } else {
          if (index < 0) return refused(ENOENT);
          entry.destinations.splice(index, 1);
        }
        return undefined;
      }
    }
  }
}

/** The errno the kernel refuses this service's settings with, or undefined. */
function serviceProblem(service: ServiceSpec): number | undefined {
  // IPv6: the netmask is a prefix length, refused outside 1-128 even for a service that is not persistent.
  if (service.family === 6 && !(service.netmask >= 1 && service.netmask <= 128)) return EINVAL;
  // A scheduler (or persistence engine) whose module cannot be loaded.
  if (!SCHEDULERS.has(service.scheduler)) return ENOENT;
  if (service.persistenceEngine !== "" && service.persistenceEngine !== "sip") return ENOENT;
  return undefined;
}

/** The service as a dump reports it: without the kernel's HASHED flag, with counters. */
function kernelService(service: ServiceSpec, fwmark: number, stats: IpvsStats = zeroStats()): KernelService {
  const { family, protocol, address, port, scheduler, flags, timeout, netmask, persistenceEngine } = service;
  return { family, protocol, address, port, scheduler, flags: flags & ~HASHED, timeout, netmask, persistenceEngine, fwmark, stats };
}

/** What a destination write sets, as a dump reports it: tunnel settings only on tunnelling destinations (ipip, port 0, no flags by default). */
function destinationSettings(destination: KernelDestination | (Omit<KernelDestination, "activeConnections" | "inactiveConnections" | "persistentConnections">)) {
  const { family, address, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = destination;
  const settings = { family, address, port, forward, weight, upperThreshold, lowerThreshold };
  return forward === "tun" ? { ...settings, tunnel: tunnel ? { ...tunnel } : { type: "ipip" as const, port: 0, flags: 0 } } : settings;
}

export function foreignService(address: string, port: number, protocol: "tcp" | "udp" = "tcp"): KernelService {
  return {
    family: address.includes(":") ? 6 : 4,
    protocol,
    address,
    port,
    fwmark: 0,
    scheduler: "rr",
    flags: 0,
    timeout: 0,
    netmask: address.includes(":") ? 128 : 0xffffffff,
    persistenceEngine: "",
    stats: zeroStats(),
  };
}
