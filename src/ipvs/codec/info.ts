import { IPVS_INFO_ATTR_CONN_TAB_SIZE, IPVS_INFO_ATTR_VERSION } from "../constants.ts";
import { NetlinkDecodeError } from "../errors.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { IpvsInfo } from "../types.ts";

/** Decodes the attributes of GET_INFO's reply (command SET_INFO); the version is 0x010201 for "1.2.1". */
export function decodeInfo(attributes: AttributeCursor): IpvsInfo {
  let version = -1;
  let connectionTableSize = 0;
  while (attributes.next()) {
    if (attributes.type === IPVS_INFO_ATTR_VERSION) version = attributes.u32();
    else if (attributes.type === IPVS_INFO_ATTR_CONN_TAB_SIZE) connectionTableSize = attributes.u32();
  }
  if (version < 0) throw new NetlinkDecodeError("info without IPVS_INFO_ATTR_VERSION");
  return {
    version: `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`,
    connectionTableSize,
  };
}
