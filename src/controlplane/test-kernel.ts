/**
 * FOR TESTS ONLY: an in-memory IPVS table, so that host tests can run whole daemons (two or three on one machine,
 * without ip_vs or root) to test the control plane. Chosen by the environment variable
 * LBCTL_TEST_MEMORY_KERNEL=1 (docs/control-plane.md, "Testing"); never for production: nothing reaches the kernel.
 * Not a flag nor a config key, so no config file can turn it on; the daemon says so in its log at every start, and
 * the table refuses to exist without the variable.
 */

import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import type { BatchResult, IpvsClient, IpvsOperation, IpvsTimeouts, KernelServiceEntry } from "../ipvs/types.ts";
import { destinationSettings, serviceSettings } from "../plan/changes.ts";

export const MEMORY_KERNEL_ENV = "LBCTL_TEST_MEMORY_KERNEL";

/** The warning the daemon logs when it runs on the memory table. */
export const MEMORY_KERNEL_WARNING = `${MEMORY_KERNEL_ENV}=1: TESTS ONLY. IPVS is simulated in memory; nothing is programmed in the kernel and no traffic is balanced`;

/** Whether the environment asks for the memory table: exactly `1`, nothing looser. */
export function memoryKernelRequested(env: Record<string, string | undefined>): boolean {
  return env[MEMORY_KERNEL_ENV] === "1";
}

export function memoryKernel(env: Record<string, string | undefined> = process.env): IpvsClient {
  if (!memoryKernelRequested(env)) throw new Error(`The in-memory IPVS table is for tests only and needs ${MEMORY_KERNEL_ENV}=1`);
  const services = new Map<string, KernelServiceEntry>();
  let timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  const apply = (operation: IpvsOperation): string | undefined => {
    const id = formatServiceKey(operation.service);
    const entry = services.get(id);
    switch (operation.kind) {
      case "new-service": {
        if (entry) return `${id} exists`;
        const settings = serviceSettings(operation.service);
        services.set(id, { service: { ...settings, flags: settings.flags | 2, fwmark: 0 }, destinations: [] });
        return undefined;
      }
      case "set-service": {
        if (!entry) return `${id}: no such service`;
        const settings = serviceSettings(operation.service);
        entry.service = { ...entry.service, ...settings, flags: settings.flags | 2 };
        return undefined;
      }
      case "del-service":
        if (!entry) return `${id}: no such service`;
        services.delete(id);
        return undefined;
      default: {
        if (!entry) return `${id}: no such service`;
        const key = formatDestinationKey(operation.destination);
        const index = entry.destinations.findIndex((d) => formatDestinationKey(d) === key);
        if (operation.kind === "new-destination") {
          if (index >= 0) return `${key} exists`;
          entry.destinations.push({ ...destinationSettings(operation.destination), activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 });
        } else if (operation.kind === "set-destination") {
          if (index < 0) return `${key}: no such destination`;
          entry.destinations[index] = { ...entry.destinations[index]!, ...destinationSettings(operation.destination) };
        } else {
          if (index < 0) return `${key}: no such destination`;
          entry.destinations.splice(index, 1);
        }
        return undefined;
      }
    }
  };
  return {
    info: () => ({ version: "memory (tests only)", connectionTableSize: 4096 }),
    dump: () => [...services.values()].map((entry) => structuredClone(entry)),
    listServices: () => [...services.values()].map((entry) => structuredClone(entry.service)),
    listDestinations: (service) => structuredClone(services.get(formatServiceKey(service))?.destinations ?? []),
    execute(operations: readonly IpvsOperation[]): BatchResult {
      const succeeded: number[] = [];
      for (let i = 0; i < operations.length; i++) {
        const refusal = apply(operations[i]!);
        if (refusal) return { ok: false, succeeded, failedIndex: i, error: new Error(refusal) };
        succeeded.push(i);
      }
      return { ok: true };
    },
    getTimeouts: () => ({ ...timeouts }),
    setTimeouts: (next) => void (timeouts = { ...next }),
    close: () => {},
  };
}
