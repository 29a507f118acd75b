import { IPVS_CMD_ATTR_SERVICE, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_PORT, IPVS_SVC_ATTR_PROTOCOL } from "../constants.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { ServiceKey } from "../types.ts";
import { encodeAddress } from "./address.ts";
import { familyToAf, protocolNumber } from "./families.ts";

/** Identifies a service: by protocol/address/port, or by firewall mark when `fwmark` is non-zero. */
export type ServiceSelector = ServiceKey & { fwmark?: number };

/**
 * IPVS_CMD_ATTR_SERVICE with only the identifying attributes (for DEL_SERVICE, dests, ZERO, GET_DEST). A batch names
 * the same service in many destination requests in a row, so the last key's bytes are kept and copied.
 */
export function encodeServiceKey(writer: MessageWriter, service: ServiceSelector): void {
  const fwmark = service.fwmark ?? 0;
  if (
    lastKey !== undefined &&
    lastKey.address === service.address &&
    lastKey.port === service.port &&
    lastKey.protocol === service.protocol &&
    lastKey.family === service.family &&
    lastKey.fwmark === fwmark
  ) {
    writer.append(lastKeyBytes);
    return;
  }
  const nest = writer.beginNested(IPVS_CMD_ATTR_SERVICE);
  encodeServiceIdentity(writer, service);
  writer.endNested(nest);
  lastKeyBytes = writer.copyFrom(nest);
  lastKey = { family: service.family, protocol: service.protocol, address: service.address, port: service.port, fwmark };
}

let lastKey: Required<ServiceSelector> | undefined;
let lastKeyBytes: Uint8Array = new Uint8Array(0);

/** The identifying attributes themselves, inside an IPVS_CMD_ATTR_SERVICE the caller has begun. */
export function encodeServiceIdentity(writer: MessageWriter, service: ServiceSelector): void {
  writer.u16(IPVS_SVC_ATTR_AF, familyToAf(service.family));
  if (service.fwmark) {
    writer.u32(IPVS_SVC_ATTR_FWMARK, service.fwmark);
    return;
  }
  writer.u16(IPVS_SVC_ATTR_PROTOCOL, protocolNumber(service.protocol));
  encodeAddress(writer, IPVS_SVC_ATTR_ADDR, service.family, service.address);
  writer.be16(IPVS_SVC_ATTR_PORT, service.port);
}
