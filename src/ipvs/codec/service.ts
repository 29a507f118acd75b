import { formatIPv4, formatIPv6 } from "../address.ts";
import {
  IPVS_CMD_ATTR_SERVICE,
  IPVS_SVC_ATTR_ADDR,
  IPVS_SVC_ATTR_AF,
  IPVS_SVC_ATTR_FLAGS,
  IPVS_SVC_ATTR_FWMARK,
  IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PE_NAME,
  IPVS_SVC_ATTR_PORT,
  IPVS_SVC_ATTR_PROTOCOL,
  IPVS_SVC_ATTR_SCHED_NAME,
  IPVS_SVC_ATTR_STATS,
  IPVS_SVC_ATTR_STATS64,
  IPVS_SVC_ATTR_TIMEOUT,
  IP_VS_SVC_F_HASHED,
} from "../constants.ts";
import { NetlinkDecodeError } from "../errors.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { IpvsStats, KernelService, ServiceSpec } from "../types.ts";
import { INET_ADDR_LENGTH } from "./address.ts";
import { afToFamily, protocolName } from "./families.ts";
import { encodeServiceIdentity } from "./service-key.ts";
import { decodeStats } from "./stats.ts";

/**
 * lbctl owns every service flag except HASHED, which only records that the kernel put the service in its hash table;
 * the mask tells the kernel to keep that bit as it is.
 */
const MANAGED_FLAGS_MASK = ~IP_VS_SVC_F_HASHED >>> 0;

/** IPVS_CMD_ATTR_SERVICE with every attribute NEW_SERVICE/SET_SERVICE require. */
export function encodeService(writer: MessageWriter, service: ServiceSpec): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_SERVICE);
  encodeServiceIdentity(writer, service);
  writer.string(IPVS_SVC_ATTR_SCHED_NAME, service.scheduler);
  writer.u32Pair(IPVS_SVC_ATTR_FLAGS, (service.flags & MANAGED_FLAGS_MASK) >>> 0, MANAGED_FLAGS_MASK);
  writer.u32(IPVS_SVC_ATTR_TIMEOUT, service.timeout);
  // The kernel keeps the netmask as a __be32 mask for IPv4 but as a host-order prefix length for IPv6.
  if (service.family === 4) writer.be32(IPVS_SVC_ATTR_NETMASK, service.netmask);
  else writer.u32(IPVS_SVC_ATTR_NETMASK, service.netmask);
  if (service.persistenceEngine !== "") writer.string(IPVS_SVC_ATTR_PE_NAME, service.persistenceEngine);
  writer.endNested(nest);
}

/**
 * Decodes the attributes nested in IPVS_CMD_ATTR_SERVICE. Returns undefined for services lbctl cannot represent
 * (AH/ESP protocols, unknown families): the reconciler leaves what it cannot name alone.
 */
export function decodeService(attributes: AttributeCursor, withStats = true): KernelService | undefined {
  let af = -1;
  let protocol = 0;
  let addressAt = -1;
  let addressLength = 0;
  let port = 0;
  let fwmark = 0;
  let scheduler = "";
  let flags = 0;
  let timeout = 0;
  let netmaskWord = 0;
  let netmaskHost = 0;
  let persistenceEngine = "";
  let legacyStats: AttributeCursor | undefined;
  let stats64: IpvsStats | undefined;
  while (attributes.next()) {
    switch (attributes.type) {
      case IPVS_SVC_ATTR_AF:
        af = attributes.u16();
        break;
      case IPVS_SVC_ATTR_PROTOCOL:
        protocol = attributes.u16();
        break;
      case IPVS_SVC_ATTR_ADDR:
        addressAt = attributes.offset;
        addressLength = attributes.length;
        break;
      case IPVS_SVC_ATTR_PORT:
        port = attributes.be16();
        break;
      case IPVS_SVC_ATTR_FWMARK:
        fwmark = attributes.u32();
        break;
      case IPVS_SVC_ATTR_SCHED_NAME:
        scheduler = attributes.string();
        break;
      case IPVS_SVC_ATTR_FLAGS:
        flags = attributes.u32(); // struct ip_vs_flags: the mask that follows is always ~0 in replies
        break;
      case IPVS_SVC_ATTR_TIMEOUT:
        timeout = attributes.u32();
        break;
      case IPVS_SVC_ATTR_NETMASK:
        netmaskWord = attributes.be32();
        netmaskHost = attributes.u32();
        break;
      case IPVS_SVC_ATTR_PE_NAME:
        persistenceEngine = attributes.string();
        break;
      case IPVS_SVC_ATTR_STATS:
        // The 32-bit counters wrap; they are only decoded when the kernel sends no STATS64 (kernels before 4.1).
        if (withStats) legacyStats = attributes.nested("service stats");
        break;
      case IPVS_SVC_ATTR_STATS64:
        if (withStats) stats64 = decodeStats(attributes.nested("service stats64"));
        break;
    }
  }
  if (af < 0) throw new NetlinkDecodeError("service without IPVS_SVC_ATTR_AF");
  const family = afToFamily(af);
  if (family === undefined) return undefined;
  let address = "";
  let protocolText = protocolName(protocol);
  if (fwmark === 0) {
    if (protocolText === undefined) return undefined;
    if (addressAt < 0) throw new NetlinkDecodeError("service without IPVS_SVC_ATTR_ADDR");
    const needed = family === 4 ? 4 : INET_ADDR_LENGTH;
    if (addressLength < needed) throw new NetlinkDecodeError(`service address of ${addressLength} bytes`);
    address = family === 4 ? formatIPv4(attributes.bytes, addressAt) : formatIPv6(attributes.bytes, addressAt);
  } else {
    protocolText ??= "tcp"; // the kernel files fwmark services under TCP and does not report a protocol
  }
  const service: KernelService = {
    family,
    protocol: protocolText,
    address,
    port,
    fwmark,
    scheduler,
    flags: flags & ~IP_VS_SVC_F_HASHED,
    timeout,
    netmask: family === 4 ? netmaskWord : netmaskHost,
    persistenceEngine,
  };
  const counters = stats64 ?? (legacyStats ? decodeStats(legacyStats) : undefined);
  if (counters) service.stats = counters;
  return service;
}
