/**
 * An in-memory IPVS kernel for unit tests of the planner, reconciler and daemon. It enforces what the real kernel
 * does for our operations (no duplicates, no destinations without a service, unknown schedulers refused), and
 * can be told to refuse one specific operation. The kernel lab tests the real thing.
 */

import { formatDestinationKey, formatServiceKey } from "../../src/ipvs/identity.ts";
import type {
  BatchResult,
  IpvsClient,
  IpvsInfo,
  IpvsOperation,
  IpvsTimeouts,
  KernelDestination,
  KernelService,
  KernelServiceEntry,
  ServiceKey,
} from "../../src/ipvs/types.ts";

const SCHEDULERS = new Set(["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"]);

export class FakeKernel implements IpvsClient {
  readonly services = new Map<string, KernelServiceEntry>();
  /** Every operation the kernel accepted, in order. */
  readonly log: IpvsOperation[] = [];
  /** Refuse the operation for which this returns an errno-like message. */
  refuse?: (operation: IpvsOperation) => string | undefined;
  dumps = 0;
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };

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

  listDestinations(service: ServiceKey): KernelDestination[] {
    return structuredClone(this.services.get(formatServiceKey(service))?.destinations ?? []);
  }

  execute(operations: readonly IpvsOperation[]): BatchResult {
    const succeeded: number[] = [];
    for (let i = 0; i < operations.length; i++) {
      const refusal = this.refuse?.(operations[i]!) ?? this.#apply(operations[i]!);
      if (refusal) return { ok: false, succeeded, failedIndex: i, error: new Error(refusal) };
      this.log.push(structuredClone(operations[i]!));
      succeeded.push(i);
    }
    return { ok: true };
  }

  getTimeouts(): IpvsTimeouts {
    return { ...this.timeouts };
  }

  setTimeouts(timeouts: IpvsTimeouts): void {
    this.timeouts = { ...timeouts };
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

  #apply(operation: IpvsOperation): string | undefined {
    const id = formatServiceKey(operation.service);
    const entry = this.services.get(id);
    switch (operation.kind) {
      case "new-service":
        if (entry) return `create-service ${id}: already exists`;
        if (!SCHEDULERS.has(operation.service.scheduler)) return `scheduler '${operation.service.scheduler}' is not available`;
        this.services.set(id, { service: { ...operation.service, flags: operation.service.flags | 2, fwmark: 0 }, destinations: [] });
        return undefined;
      case "set-service":
        if (!entry) return `update-service ${id}: no such service`;
        if (!SCHEDULERS.has(operation.service.scheduler)) return `scheduler '${operation.service.scheduler}' is not available`;
        entry.service = { ...entry.service, ...operation.service, flags: operation.service.flags | 2 };
        return undefined;
      case "del-service":
        if (!entry) return `delete-service ${id}: no such service`;
        this.services.delete(id);
        return undefined;
      default: {
        if (!entry) return `${operation.kind} ${id}: no such service`;
        const key = formatDestinationKey(operation.destination);
        const index = entry.destinations.findIndex((d) => formatDestinationKey(d) === key);
        if (operation.kind === "new-destination") {
          if (index >= 0) return `create-destination ${key}: already exists`;
          entry.destinations.push({ ...operation.destination, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 });
        } else if (operation.kind === "set-destination") {
          if (index < 0) return `update-destination ${key}: no such destination`;
          entry.destinations[index] = { ...entry.destinations[index]!, ...operation.destination };
        } else {
          if (index < 0) return `delete-destination ${key}: no such destination`;
          entry.destinations.splice(index, 1);
        }
        return undefined;
      }
    }
  }
}

export function foreignService(address: string, port: number, protocol: "tcp" | "udp" = "tcp"): KernelService {
  return {
    family: address.includes(":") ? 6 : 4,
    protocol,
    address,
    port,
    fwmark: 0,
    scheduler: "rr",
    flags: 2,
    timeout: 0,
    netmask: 0xffffffff,
    persistenceEngine: "",
  };
}
