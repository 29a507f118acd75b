import { addressFamily, formatIPv6 } from "../address.ts";
import {
  IPVS_CMD_ATTR_DAEMON,
  IPVS_DAEMON_ATTR_MCAST_GROUP,
  IPVS_DAEMON_ATTR_MCAST_GROUP6,
  IPVS_DAEMON_ATTR_MCAST_IFN,
  IPVS_DAEMON_ATTR_MCAST_PORT,
  IPVS_DAEMON_ATTR_MCAST_TTL,
  IPVS_DAEMON_ATTR_STATE,
  IPVS_DAEMON_ATTR_SYNC_ID,
  IPVS_DAEMON_ATTR_SYNC_MAXLEN,
  IP_VS_STATE_BACKUP,
  IP_VS_STATE_MASTER,
} from "../constants.ts";
import { NetlinkDecodeError } from "../errors.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { SyncDaemonSettings, SyncDaemonState } from "../types.ts";
import { decodeIPv4Word, encodeAddress, encodeIPv4Word } from "./address.ts";

export function daemonStateNumber(state: SyncDaemonState): number {
  return state === "master" ? IP_VS_STATE_MASTER : IP_VS_STATE_BACKUP;
}

/** IPVS_CMD_ATTR_DAEMON for NEW_DAEMON: state, interface and sync id are required, the rest optional. */
export function encodeDaemon(writer: MessageWriter, daemon: SyncDaemonSettings): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_DAEMON);
  writer.u32(IPVS_DAEMON_ATTR_STATE, daemonStateNumber(daemon.state));
  writer.string(IPVS_DAEMON_ATTR_MCAST_IFN, daemon.interface);
  writer.u32(IPVS_DAEMON_ATTR_SYNC_ID, daemon.syncId);
  if (daemon.maxLength !== undefined) writer.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, daemon.maxLength);
  if (daemon.group !== undefined) {
    if (addressFamily(daemon.group) === 6) encodeAddress(writer, IPVS_DAEMON_ATTR_MCAST_GROUP6, 6, daemon.group);
    else encodeIPv4Word(writer, IPVS_DAEMON_ATTR_MCAST_GROUP, daemon.group);
  }
  if (daemon.port !== undefined) writer.be16(IPVS_DAEMON_ATTR_MCAST_PORT, daemon.port);
  if (daemon.ttl !== undefined) writer.u8(IPVS_DAEMON_ATTR_MCAST_TTL, daemon.ttl);
  writer.endNested(nest);
}

/** IPVS_CMD_ATTR_DAEMON for DEL_DAEMON: only the state says which daemon to stop. */
export function encodeDaemonState(writer: MessageWriter, state: SyncDaemonState): void {
  const nest = writer.beginNested(IPVS_CMD_ATTR_DAEMON);
  writer.u32(IPVS_DAEMON_ATTR_STATE, daemonStateNumber(state));
  writer.endNested(nest);
}

/** Decodes the attributes nested in IPVS_CMD_ATTR_DAEMON of a GET_DAEMON dump. */
export function decodeDaemon(attributes: AttributeCursor): SyncDaemonSettings {
  let state = -1;
  const daemon: SyncDaemonSettings = { state: "master", interface: "", syncId: 0 };
  while (attributes.next()) {
    switch (attributes.type) {
      case IPVS_DAEMON_ATTR_STATE:
        state = attributes.u32();
        break;
      case IPVS_DAEMON_ATTR_MCAST_IFN:
        daemon.interface = attributes.string();
        break;
      case IPVS_DAEMON_ATTR_SYNC_ID:
        daemon.syncId = attributes.u32();
        break;
      case IPVS_DAEMON_ATTR_SYNC_MAXLEN:
        daemon.maxLength = attributes.u16();
        break;
      case IPVS_DAEMON_ATTR_MCAST_GROUP:
        daemon.group = decodeIPv4Word(attributes);
        break;
      case IPVS_DAEMON_ATTR_MCAST_GROUP6:
        daemon.group = formatIPv6(attributes.payload(16, "IPv6 address"));
        break;
      case IPVS_DAEMON_ATTR_MCAST_PORT:
        daemon.port = attributes.be16();
        break;
      case IPVS_DAEMON_ATTR_MCAST_TTL:
        daemon.ttl = attributes.u8();
        break;
    }
  }
  if (state === IP_VS_STATE_MASTER) daemon.state = "master";
  else if (state === IP_VS_STATE_BACKUP) daemon.state = "backup";
  else throw new NetlinkDecodeError(`sync daemon state ${state}`);
  return daemon;
}
