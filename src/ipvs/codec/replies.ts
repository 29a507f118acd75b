/** Decoders for whole reply messages: find the command's top-level attribute, then decode what it nests. */

import { IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE } from "../constants.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { MessageCursor } from "../netlink/messages.ts";
import type { Family, IpvsInfo, IpvsTimeouts, KernelDestination, KernelService, SyncDaemonSettings } from "../types.ts";
import { decodeDaemon } from "./daemon.ts";
import { decodeDestination } from "./destination.ts";
import { decodeInfo } from "./info.ts";
import { decodeService } from "./service.ts";
import { decodeTimeouts } from "./timeouts.ts";

/** `withStats` false skips the counters (the entry then has no `stats`). */
export function decodeServiceMessage(message: MessageCursor, withStats = true): KernelService | undefined {
  const service = findNested(message, IPVS_CMD_ATTR_SERVICE, "service");
  return service && decodeService(service, withStats);
}

export function decodeDestinationMessage(message: MessageCursor, serviceFamily: Family, withStats = true): KernelDestination | undefined {
  const destination = findNested(message, IPVS_CMD_ATTR_DEST, "destination");
  return destination && decodeDestination(destination, serviceFamily, withStats);
}

export function decodeDaemonMessage(message: MessageCursor): SyncDaemonSettings | undefined {
  const daemon = findNested(message, IPVS_CMD_ATTR_DAEMON, "sync daemon");
  return daemon && decodeDaemon(daemon);
}

export function decodeInfoMessage(message: MessageCursor): IpvsInfo {
  return decodeInfo(message.attributes("info"));
}

export function decodeTimeoutsMessage(message: MessageCursor): IpvsTimeouts {
  return decodeTimeouts(message.attributes("config"));
}

function findNested(message: MessageCursor, type: number, context: string): AttributeCursor | undefined {
  const attributes = message.attributes(`${context} reply`);
  while (attributes.next()) if (attributes.type === type) return attributes.nested(context);
  return undefined;
}
