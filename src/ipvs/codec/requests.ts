/**
 * Whole request messages: nlmsghdr + genlmsghdr + IPVS attributes, appended to a MessageWriter.
 *
 *   0               4       6       8               12              16   17   18      20
 *   +---------------+-------+-------+---------------+---------------+----+----+-------+------------------
 *   | nlmsg_len     | type  | flags | nlmsg_seq     | nlmsg_pid     |cmd |ver |  0    | attributes ...
 *   +---------------+-------+-------+---------------+---------------+----+----+-------+------------------
 *   type = the IPVS family id the kernel assigned at module load (resolved through the genl controller).
 *   Header fields are host order; ports (and IPv4 netmasks) inside the attributes are network order.
 */

import {
  IPVS_CMD_DEL_DAEMON,
  IPVS_CMD_DEL_DEST,
  IPVS_CMD_DEL_SERVICE,
  IPVS_CMD_FLUSH,
  IPVS_CMD_GET_CONFIG,
  IPVS_CMD_GET_DAEMON,
  IPVS_CMD_GET_DEST,
  IPVS_CMD_GET_INFO,
  IPVS_CMD_GET_SERVICE,
  IPVS_CMD_NEW_DAEMON,
  IPVS_CMD_NEW_DEST,
  IPVS_CMD_NEW_SERVICE,
  IPVS_CMD_SET_CONFIG,
  IPVS_CMD_SET_DEST,
  IPVS_CMD_SET_SERVICE,
  IPVS_CMD_ZERO,
  IPVS_GENL_VERSION,
} from "../constants.ts";
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from "../netlink/constants.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { IpvsOperation, IpvsTimeouts, ServiceKey, SyncDaemonSettings, SyncDaemonState } from "../types.ts";
import { encodeDaemon, encodeDaemonState } from "./daemon.ts";
import { encodeDestination, encodeDestinationKey } from "./destination.ts";
import { encodeService } from "./service.ts";
import { type ServiceSelector, type ServiceKeyEncoder, encodeServiceKey } from "./service-key.ts";
import { encodeTimeouts } from "./timeouts.ts";

/** Where a request goes and how it is numbered; callers reuse one object and bump `seq`. */
export interface RequestHeader {
  /** Generic netlink family id of IPVS. */
  family: number;
  seq: number;
  /** Our netlink port id (nlmsg_pid). */
  port: number;
}

/** A batched write asks for no acknowledgement itself: the batch sets NLM_F_ACK on the last request of each send. */
const BATCH_WRITE_FLAGS = NLM_F_REQUEST;
/** A single request waits for its acknowledgement. */
const WRITE_FLAGS = NLM_F_REQUEST | NLM_F_ACK;
const DUMP_FLAGS = NLM_F_REQUEST | NLM_F_DUMP;

function begin(writer: MessageWriter, header: RequestHeader, flags: number, command: number): number {
  return writer.beginGenlMessage(header.family, flags, header.seq, header.port, command, IPVS_GENL_VERSION);
}

/**
 * One service/destination write; the message is dropped again if encoding fails half-way. A batch passes its
 * ServiceKeyEncoder so consecutive requests on one service reuse the key's bytes.
 */
export function encodeOperation(writer: MessageWriter, header: RequestHeader, operation: IpvsOperation, keys?: ServiceKeyEncoder): void {
  const mark = writer.length;
  try {
    switch (operation.kind) {
      case "new-service":
      case "set-service": {
        const command = operation.kind === "new-service" ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE;
        const start = begin(writer, header, BATCH_WRITE_FLAGS, command);
        encodeService(writer, operation.service);
        writer.endMessage(start);
        return;
      }
      case "del-service": {
        const start = begin(writer, header, BATCH_WRITE_FLAGS, IPVS_CMD_DEL_SERVICE);
        if (keys) keys.encode(writer, operation.service);
        else encodeServiceKey(writer, operation.service);
        writer.endMessage(start);
        return;
      }
      case "new-destination":
      case "set-destination": {
        const command = operation.kind === "new-destination" ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST;
        const start = begin(writer, header, BATCH_WRITE_FLAGS, command);
        if (keys) keys.encode(writer, operation.service);
        else encodeServiceKey(writer, operation.service);
        encodeDestination(writer, operation.destination);
        writer.endMessage(start);
        return;
      }
      case "del-destination": {
        const start = begin(writer, header, BATCH_WRITE_FLAGS, IPVS_CMD_DEL_DEST);
        if (keys) keys.encode(writer, operation.service);
        else encodeServiceKey(writer, operation.service);
        encodeDestinationKey(writer, operation.destination);
        writer.endMessage(start);
        return;
      }
    }
  } catch (error) {
    writer.truncate(mark);
    throw error;
  }
}

export function encodeGetServices(writer: MessageWriter, header: RequestHeader): void {
  writer.endMessage(begin(writer, header, DUMP_FLAGS, IPVS_CMD_GET_SERVICE));
}

export function encodeGetDestinations(writer: MessageWriter, header: RequestHeader, service: ServiceSelector): void {
  const start = begin(writer, header, DUMP_FLAGS, IPVS_CMD_GET_DEST);
  encodeServiceKey(writer, service);
  writer.endMessage(start);
}

export function encodeGetInfo(writer: MessageWriter, header: RequestHeader): void {
  writer.endMessage(begin(writer, header, WRITE_FLAGS, IPVS_CMD_GET_INFO));
}

export function encodeGetConfig(writer: MessageWriter, header: RequestHeader): void {
  writer.endMessage(begin(writer, header, WRITE_FLAGS, IPVS_CMD_GET_CONFIG));
}

export function encodeSetConfig(writer: MessageWriter, header: RequestHeader, timeouts: IpvsTimeouts): void {
  const start = begin(writer, header, WRITE_FLAGS, IPVS_CMD_SET_CONFIG);
  encodeTimeouts(writer, timeouts);
  writer.endMessage(start);
}

/** Zeroes one service's counters, or all counters without a service. */
export function encodeZero(writer: MessageWriter, header: RequestHeader, service?: ServiceKey): void {
  const start = begin(writer, header, WRITE_FLAGS, IPVS_CMD_ZERO);
  if (service) encodeServiceKey(writer, service);
  writer.endMessage(start);
}

export function encodeFlush(writer: MessageWriter, header: RequestHeader): void {
  writer.endMessage(begin(writer, header, WRITE_FLAGS, IPVS_CMD_FLUSH));
}

export function encodeNewDaemon(writer: MessageWriter, header: RequestHeader, daemon: SyncDaemonSettings): void {
  const start = begin(writer, header, WRITE_FLAGS, IPVS_CMD_NEW_DAEMON);
  encodeDaemon(writer, daemon);
  writer.endMessage(start);
}

export function encodeDelDaemon(writer: MessageWriter, header: RequestHeader, state: SyncDaemonState): void {
  const start = begin(writer, header, WRITE_FLAGS, IPVS_CMD_DEL_DAEMON);
  encodeDaemonState(writer, state);
  writer.endMessage(start);
}

export function encodeGetDaemons(writer: MessageWriter, header: RequestHeader): void {
  writer.endMessage(begin(writer, header, DUMP_FLAGS, IPVS_CMD_GET_DAEMON));
}
