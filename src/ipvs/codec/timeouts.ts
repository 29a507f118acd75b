import { IPVS_CMD_ATTR_TIMEOUT_TCP, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, IPVS_CMD_ATTR_TIMEOUT_UDP } from "../constants.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { IpvsTimeouts } from "../types.ts";

/** The three top-level timeout attributes of SET_CONFIG; the kernel leaves a timeout of 0 unchanged. */
export function encodeTimeouts(writer: MessageWriter, timeouts: IpvsTimeouts): void {
  writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, timeouts.tcp);
  writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, timeouts.tcpFin);
  writer.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, timeouts.udp);
}

/** Decodes GET_CONFIG's reply (command SET_CONFIG). */
export function decodeTimeouts(attributes: AttributeCursor): IpvsTimeouts {
  const timeouts: IpvsTimeouts = { tcp: 0, tcpFin: 0, udp: 0 };
  while (attributes.next()) {
    if (attributes.type === IPVS_CMD_ATTR_TIMEOUT_TCP) timeouts.tcp = attributes.u32();
    else if (attributes.type === IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) timeouts.tcpFin = attributes.u32();
    else if (attributes.type === IPVS_CMD_ATTR_TIMEOUT_UDP) timeouts.udp = attributes.u32();
  }
  return timeouts;
}
