/** What lbctl reads from a Service: whether it is ours, its address claim, its ports. Pure. */

import { parseIp } from "../config/ip.ts";
import type { Family } from "../ipvs/types.ts";
import type { Claim } from "./allocation.ts";
import { ANNOTATION_IPS, ANNOTATION_POOL, ANNOTATION_SHARING, objectKey } from "./names.ts";
import type { Service, ServicePort } from "./types.ts";

/** `type: LoadBalancer` with our `spec.loadBalancerClass`: the only Services lbctl ever touches. */
export function isOurs(service: Service, loadBalancerClass: string): boolean {
  return service.spec.type === "LoadBalancer" && service.spec.loadBalancerClass === loadBalancerClass;
}

export function serviceFamilies(service: Service): Family[] {
  const families = (service.spec.ipFamilies ?? ["IPv4"]).map((f): Family => (f === "IPv6" ? 6 : 4));
  return families.length > 0 ? [...new Set(families)] : [4];
}

export function portProtocol(port: ServicePort): "TCP" | "UDP" | "SCTP" {
  return port.protocol ?? "TCP";
}

/** Ports lbctl can serve (TCP, UDP) and those it cannot (SCTP: IPVS-SCTP is not programmed by lbctl). */
export function splitPorts(service: Service): { served: ServicePort[]; unsupported: ServicePort[] } {
  const ports = service.spec.ports ?? [];
  return {
    served: ports.filter((port) => portProtocol(port) !== "SCTP"),
    unsupported: ports.filter((port) => portProtocol(port) === "SCTP"),
  };
}

export interface RequestProblem {
  message: string;
}

/** Requested addresses: the annotation wins over the deprecated spec.loadBalancerIP. Unparseable → a problem. */
export function requestedAddresses(service: Service): { ips: string[] } | RequestProblem {
  const annotation = service.metadata.annotations?.[ANNOTATION_IPS];
  const raw = annotation !== undefined ? annotation.split(",").map((s) => s.trim()).filter((s) => s !== "") : service.spec.loadBalancerIP ? [service.spec.loadBalancerIP] : [];
  const ips: string[] = [];
  for (const text of raw) {
    const parsed = parseIp(text);
    if (!parsed) return { message: `requested address "${text}" (${annotation !== undefined ? `annotation ${ANNOTATION_IPS}` : "spec.loadBalancerIP"}) is not an IP address` };
    ips.push(parsed.text);
  }
  return { ips };
}

export function claimOf(service: Service, requested: string[]): Claim {
  const annotations = service.metadata.annotations ?? {};
  const current = (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip).filter((ip): ip is string => typeof ip === "string");
  const families = requested.length > 0 ? [...new Set(requested.map((ip) => parseIp(ip)?.family ?? 4))] : serviceFamilies(service);
  const pool = annotations[ANNOTATION_POOL]?.trim();
  const sharingKey = annotations[ANNOTATION_SHARING]?.trim();
  return {
    key: objectKey(service.metadata),
    created: service.metadata.creationTimestamp ?? "",
    families,
    requested,
    ...(pool ? { pool } : {}),
    ...(sharingKey ? { sharingKey } : {}),
    ports: splitPorts(service).served.map((port) => `${portProtocol(port)}/${port.port}`),
    current,
  };
}
