/**
 * Snapshots of the managed part of the kernel table (`lbctl snapshot`): every virtual service on a managed VIP with
 * its destinations and settings, as JSON, and back to desired services for the planner, so that a restore is
 * planned, limited and dry-run exactly as an apply is. Pure: the file handling is src/system/snapshots.ts.
 */

import { canonicalAddress } from "../ipvs/address.ts";
import { formatDestinationKey, formatServiceKey } from "../ipvs/identity.ts";
import type { DestinationSpec, Family, ForwardMethod, KernelServiceEntry, Protocol, ServiceSpec, TunnelSettings } from "../ipvs/types.ts";
import type { DesiredService } from "./desired.ts";

export const SNAPSHOT_VERSION = 1;

/** Why a snapshot was taken: by hand, or automatically before an apply, a daemon reload or a restore that deletes. */
export type SnapshotReason = "manual" | "apply" | "reload" | "restore";
export const SNAPSHOT_REASONS: readonly SnapshotReason[] = ["manual", "apply", "reload", "restore"];

export interface SnapshotDestination {
  destination: string;
  address: string;
  port: number;
  forward: ForwardMethod;
  weight: number;
  upper_threshold: number;
  lower_threshold: number;
  tunnel?: TunnelSettings;
}

export interface SnapshotService {
  service: string;
  family: Family;
  protocol: Protocol;
  address: string;
  port: number;
  scheduler: string;
  /** IP_VS_SVC_F_* bits lbctl manages (1 = persistent). */
  flags: number;
  persistence_timeout: number;
  netmask: number;
  persistence_engine: string;
  destinations: SnapshotDestination[];
}

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  id: string;
  /** ISO 8601. */
  created_at: string;
  reason: SnapshotReason;
  node: string;
  /** The managed VIPs when it was taken: a restore removes what is on them and not in the snapshot. */
  managed_vips: string[];
  services: SnapshotService[];
}

export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
  readonly code = "E_SNAPSHOT";
}

/** The managed part of `kernel`: address-based services on a managed VIP (fwmark services are never lbctl's). */
export function takeSnapshot(
  kernel: readonly KernelServiceEntry[],
  managedVips: ReadonlySet<string>,
  meta: { id: string; createdAt: Date; reason: SnapshotReason; node: string },
): Snapshot {
  const services: SnapshotService[] = [];
  for (const { service, destinations } of kernel) {
    if (service.fwmark !== 0 || !managedVips.has(service.address)) continue;
    services.push({
      service: formatServiceKey(service),
      family: service.family,
      protocol: service.protocol,
      address: service.address,
      port: service.port,
      scheduler: service.scheduler,
      flags: service.flags & ~0x0002,
      persistence_timeout: service.timeout,
      netmask: service.netmask,
      persistence_engine: service.persistenceEngine,
      destinations: destinations.map((d) => ({
        destination: formatDestinationKey(d),
        address: d.address,
        port: d.port,
        forward: d.forward,
        weight: d.weight,
        upper_threshold: d.upperThreshold,
        lower_threshold: d.lowerThreshold,
        ...(d.tunnel && d.forward === "tun" ? { tunnel: { ...d.tunnel } } : {}),
      })),
    });
  }
  services.sort((a, b) => a.service.localeCompare(b.service));
  return {
    version: SNAPSHOT_VERSION,
    id: meta.id,
    created_at: meta.createdAt.toISOString(),
    reason: meta.reason,
    node: meta.node,
    managed_vips: [...managedVips].sort(),
    services,
  };
}

/** The snapshot as desired services: the planner then diffs it against the kernel as it does a config. */
export function snapshotDesired(snapshot: Snapshot, nameOf: (service: string) => string | undefined = () => undefined): DesiredService[] {
  return snapshot.services.map((s) => {
    const spec: ServiceSpec = {
      family: s.family,
      protocol: s.protocol,
      address: s.address,
      port: s.port,
      scheduler: s.scheduler,
      flags: s.flags,
      timeout: s.persistence_timeout,
      netmask: s.netmask,
      persistenceEngine: s.persistence_engine,
    };
    return {
      ...spec,
      id: s.service,
      name: nameOf(s.service) ?? "",
      destinations: s.destinations.map((d) => {
        const destination: DestinationSpec = {
          address: d.address,
          port: d.port,
          family: s.family,
          forward: d.forward,
          weight: d.weight,
          upperThreshold: d.upper_threshold,
          lowerThreshold: d.lower_threshold,
          ...(d.tunnel ? { tunnel: { ...d.tunnel } } : {}),
        };
        return { ...destination, id: d.destination, backend: d.destination, configuredWeight: d.weight };
      }),
    };
  });
}

/** Checks a parsed snapshot file field by field; `source` names it in errors. */
export function parseSnapshot(value: unknown, source: string): Snapshot {
  const fail = (path: string, expected: string): never => {
    throw new SnapshotFormatError(`${source}: ${path} must be ${expected}`);
  };
  const object = (v: unknown, path: string): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, "an object"));
  const int = (v: unknown, path: string, min: number, max: number): number => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(path, `an integer from ${min} to ${max}`));
  const str = (v: unknown, path: string): string => (typeof v === "string" ? v : fail(path, "a string"));
  const address = (v: unknown, path: string, family: Family): string => {
    const text = str(v, path);
    const canonical = canonicalAddress(text);
    if (canonical === undefined || canonical !== text || text.includes(":") !== (family === 6)) fail(path, `a canonical IPv${family} address`);
    return text;
  };
  const root = object(value, "the file");
  if (root.version !== SNAPSHOT_VERSION) fail("version", String(SNAPSHOT_VERSION));
  const reason = str(root.reason, "reason");
  if (!(SNAPSHOT_REASONS as readonly string[]).includes(reason)) fail("reason", SNAPSHOT_REASONS.join(", "));
  const created = str(root.created_at, "created_at");
  if (Number.isNaN(Date.parse(created))) fail("created_at", "an ISO 8601 time");
  const vips = Array.isArray(root.managed_vips) ? root.managed_vips : fail("managed_vips", "a list");
  if (!Array.isArray(root.services)) fail("services", "a list");
  const services = (root.services as unknown[]).map((raw, i): SnapshotService => {
    const at = `services[${i}]`;
    const s = object(raw, at);
    const family: Family = s.family === 4 || s.family === 6 ? s.family : fail(`${at}.family`, "4 or 6");
    const protocol: Protocol = s.protocol === "tcp" || s.protocol === "udp" || s.protocol === "sctp" ? s.protocol : fail(`${at}.protocol`, "tcp, udp or sctp");
    const service = {
      family,
      protocol,
      address: address(s.address, `${at}.address`, family),
      port: int(s.port, `${at}.port`, 0, 65535),
      scheduler: str(s.scheduler, `${at}.scheduler`),
      flags: int(s.flags, `${at}.flags`, 0, 0xffff),
      persistence_timeout: int(s.persistence_timeout, `${at}.persistence_timeout`, 0, 0xffffffff),
      netmask: int(s.netmask, `${at}.netmask`, 0, 0xffffffff),
      persistence_engine: str(s.persistence_engine, `${at}.persistence_engine`),
    };
    if (!/^[a-z0-9_]{1,15}$/.test(service.scheduler)) fail(`${at}.scheduler`, "a scheduler name");
    const id = formatServiceKey(service);
    if (s.service !== id) fail(`${at}.service`, `"${id}" (its protocol, address and port)`);
    if (!Array.isArray(s.destinations)) fail(`${at}.destinations`, "a list");
    const destinations = (s.destinations as unknown[]).map((rawD, j): SnapshotDestination => {
      const dat = `${at}.destinations[${j}]`;
      const d = object(rawD, dat);
      const forward = d.forward === "nat" || d.forward === "dr" || d.forward === "tun" ? d.forward : fail(`${dat}.forward`, "nat, dr or tun");
      const destination: SnapshotDestination = {
        destination: "",
        address: address(d.address, `${dat}.address`, family),
        port: int(d.port, `${dat}.port`, 0, 65535),
        forward,
        weight: int(d.weight, `${dat}.weight`, 0, 65535),
        upper_threshold: int(d.upper_threshold, `${dat}.upper_threshold`, 0, 0xffffffff),
        lower_threshold: int(d.lower_threshold, `${dat}.lower_threshold`, 0, 0xffffffff),
      };
      destination.destination = formatDestinationKey(destination);
      if (d.destination !== destination.destination) fail(`${dat}.destination`, `"${destination.destination}"`);
      if (d.tunnel !== undefined) {
        const t = object(d.tunnel, `${dat}.tunnel`);
        const type = t.type === "ipip" || t.type === "gue" || t.type === "gre" ? t.type : fail(`${dat}.tunnel.type`, "ipip, gue or gre");
        destination.tunnel = { type, port: int(t.port, `${dat}.tunnel.port`, 0, 65535), flags: int(t.flags, `${dat}.tunnel.flags`, 0, 0xffff) };
      }
      return destination;
    });
    return { service: id, ...service, destinations };
  });
  return {
    version: SNAPSHOT_VERSION,
    id: str(root.id, "id"),
    created_at: created,
    reason: reason as SnapshotReason,
    node: str(root.node, "node"),
    managed_vips: vips.map((v, i) => str(v, `managed_vips[${i}]`)),
    services,
  };
}

/** One line per snapshot for `snapshot list`: how much it holds. */
export function snapshotCounts(snapshot: Snapshot): { services: number; destinations: number } {
  return { services: snapshot.services.length, destinations: snapshot.services.reduce((n, s) => n + s.destinations.length, 0) };
}
