import { formatIPv4, formatIPv6 } from "../address.ts";
import {
  IPVS_CMD_ATTR_DEST,
  IPVS_DEST_ATTR_ACTIVE_CONNS,
  IPVS_DEST_ATTR_ADDR,
  IPVS_DEST_ATTR_ADDR_FAMILY,
  IPVS_DEST_ATTR_FWD_METHOD,
  IPVS_DEST_ATTR_INACT_CONNS,
  IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_PERSIST_CONNS,
  IPVS_DEST_ATTR_PORT,
  IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_STATS64,
  IPVS_DEST_ATTR_TUN_FLAGS,
  IPVS_DEST_ATTR_TUN_PORT,
  IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_WEIGHT,
  IP_VS_CONN_F_FWD_MASK,
} from "../constants.ts";
import { NetlinkDecodeError } from "../errors.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { DestinationKey, DestinationSpec, Family, IpvsStats, KernelDestination, TunnelSettings } from "../types.ts";
import { INET_ADDR_LENGTH, encodeAddress } from "./address.ts";
import { afToFamily, familyToAf, forwardName, forwardNumber, tunnelName, tunnelNumber } from "./families.ts";
import { decodeStats } from "./stats.ts";

export type DestinationSelector = DestinationKey & { family: Family };

/** IPVS_CMD_ATTR_DEST with only address, port and family (for DEL_DEST). */
export function encodeDestinationKey(writer: MessageWriter, destination: DestinationSelector): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_DEST);
  encodeIdentity(writer, destination);
  writer.endNested(nest);
}

/** IPVS_CMD_ATTR_DEST with every attribute NEW_DEST/SET_DEST require, plus the tunnel settings when given. */
export function encodeDestination(writer: MessageWriter, destination: DestinationSpec): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_DEST);
  encodeIdentity(writer, destination);
  writer.u32(IPVS_DEST_ATTR_FWD_METHOD, forwardNumber(destination.forward));
  writer.u32(IPVS_DEST_ATTR_WEIGHT, destination.weight);
  writer.u32(IPVS_DEST_ATTR_U_THRESH, destination.upperThreshold);
  writer.u32(IPVS_DEST_ATTR_L_THRESH, destination.lowerThreshold);
  const tunnel = destination.tunnel;
  if (tunnel) {
    writer.u8(IPVS_DEST_ATTR_TUN_TYPE, tunnelNumber(tunnel.type));
    writer.be16(IPVS_DEST_ATTR_TUN_PORT, tunnel.port);
    writer.u16(IPVS_DEST_ATTR_TUN_FLAGS, tunnel.flags);
  }
  writer.endNested(nest);
}

function encodeIdentity(writer: MessageWriter, destination: DestinationSelector): void {
  encodeAddress(writer, IPVS_DEST_ATTR_ADDR, destination.family, destination.address);
  writer.be16(IPVS_DEST_ATTR_PORT, destination.port);
  // Kernels before 3.18 ignore it and assume the service's family; later ones allow a different one for tunnels.
  writer.u16(IPVS_DEST_ATTR_ADDR_FAMILY, familyToAf(destination.family));
}

/**
 * Decodes the attributes nested in IPVS_CMD_ATTR_DEST. Kernels before 3.18 send no IPVS_DEST_ATTR_ADDR_FAMILY; the
 * destination then has its service's family, which the caller passes in.
 */
export function decodeDestination(attributes: AttributeCursor, serviceFamily: Family, withStats = true): KernelDestination | undefined {
  let family: Family | undefined = serviceFamily;
  let addressAt = -1;
  let addressLength = 0;
  let port = 0;
  let forward = 0;
  let weight = 0;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let activeConnections = 0;
  let inactiveConnections = 0;
  let persistentConnections = 0;
  let tunnelType = -1;
  let tunnelPort = 0;
  let tunnelFlags = 0;
  let legacyStats: AttributeCursor | undefined;
  let stats64: IpvsStats | undefined;
  while (attributes.next()) {
    switch (attributes.type) {
      case IPVS_DEST_ATTR_ADDR:
        addressAt = attributes.offset;
        addressLength = attributes.length;
        break;
      case IPVS_DEST_ATTR_PORT:
        port = attributes.be16();
        break;
      case IPVS_DEST_ATTR_FWD_METHOD:
        forward = attributes.u32() & IP_VS_CONN_F_FWD_MASK;
        break;
      case IPVS_DEST_ATTR_WEIGHT:
        weight = attributes.u32();
        break;
      case IPVS_DEST_ATTR_U_THRESH:
        upperThreshold = attributes.u32();
        break;
      case IPVS_DEST_ATTR_L_THRESH:
        lowerThreshold = attributes.u32();
        break;
      case IPVS_DEST_ATTR_ACTIVE_CONNS:
        activeConnections = attributes.u32();
        break;
      case IPVS_DEST_ATTR_INACT_CONNS:
        inactiveConnections = attributes.u32();
        break;
      case IPVS_DEST_ATTR_PERSIST_CONNS:
        persistentConnections = attributes.u32();
        break;
      case IPVS_DEST_ATTR_ADDR_FAMILY:
        family = afToFamily(attributes.u16());
        break;
      case IPVS_DEST_ATTR_TUN_TYPE:
        tunnelType = attributes.u8();
        break;
      case IPVS_DEST_ATTR_TUN_PORT:
        tunnelPort = attributes.be16();
        break;
      case IPVS_DEST_ATTR_TUN_FLAGS:
        tunnelFlags = attributes.u16();
        break;
      case IPVS_DEST_ATTR_STATS:
        // The 32-bit counters wrap; they are only decoded when the kernel sends no STATS64 (kernels before 4.1).
        if (withStats) legacyStats = attributes.nested("destination stats");
        break;
      case IPVS_DEST_ATTR_STATS64:
        if (withStats) stats64 = decodeStats(attributes.nested("destination stats64"));
        break;
    }
  }
  if (family === undefined) return undefined;
  if (addressAt < 0) throw new NetlinkDecodeError("destination without IPVS_DEST_ATTR_ADDR");
  if (addressLength < (family === 4 ? 4 : INET_ADDR_LENGTH)) {
    throw new NetlinkDecodeError(`destination address of ${addressLength} bytes`);
  }
  const method = forwardName(forward);
  if (method === undefined) throw new NetlinkDecodeError(`destination forwarding method ${forward}`);
  const destination: KernelDestination = {
    family,
    address: family === 4 ? formatIPv4(attributes.bytes, addressAt) : formatIPv6(attributes.bytes, addressAt),
    port,
    forward: method,
    weight,
    upperThreshold,
    lowerThreshold,
    activeConnections,
    inactiveConnections,
    persistentConnections,
  };
  // Kernels from 5.2 report tunnel settings for every destination; they only mean something for tunnelling ones.
  const type = tunnelName(tunnelType);
  if (method === "tun" && type !== undefined) {
    const tunnel: TunnelSettings = { type, port: tunnelPort, flags: tunnelFlags };
    destination.tunnel = tunnel;
  }
  const counters = stats64 ?? (legacyStats ? decodeStats(legacyStats) : undefined);
  if (counters) destination.stats = counters;
  return destination;
}
