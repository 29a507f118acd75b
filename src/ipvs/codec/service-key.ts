import { IPVS_CMD_ATTR_SERVICE, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_PORT, IPVS_SVC_ATTR_PROTOCOL } from "../constants.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { ServiceKey } from "../types.ts";
import { encodeAddress } from "./address.ts";
import { familyToAf, protocolNumber } from "./families.ts";

/** Identifies a service: by protocol/address/port, or by firewall mark when `fwmark` is non-zero. */
export type ServiceSelector = ServiceKey & { fwmark?: number };

/** IPVS_CMD_ATTR_SERVICE with only the identifying attributes (for DEL_SERVICE, dests, ZERO, GET_DEST). */
export function encodeServiceKey(writer: MessageWriter, service: ServiceSelector): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_SERVICE);
  encodeServiceIdentity(writer, service);
  writer.endNested(nest);
}

/**
 * `encodeServiceKey` for one batch: a batch names the same service in many destination requests in a row, so the
 * last key's bytes are kept and copied. One per batch (the memory is the batch's, not the module's).
 */
export class ServiceKeyEncoder {
  #last: Required<ServiceSelector> | undefined;
  #bytes: Uint8Array = new Uint8Array(0);

  encode(writer: MessageWriter, service: ServiceSelector): void {
    const fwmark = service.fwmark ?? 0;
    const last = this.#last;
    if (
      last !== undefined &&
      last.address === service.address &&
      last.port === service.port &&
      last.protocol === service.protocol &&
      last.family === service.family &&
      last.fwmark === fwmark
    ) {
      writer.append(this.#bytes);
      return;
    }
    const nest = writer.beginNested(IPVS_CMD_ATTR_SERVICE);
    encodeServiceIdentity(writer, service);
    writer.endNested(nest);
    this.#bytes = writer.copyFrom(nest);
    this.#last = { family: service.family, protocol: service.protocol, address: service.address, port: service.port, fwmark };
  }
}

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
