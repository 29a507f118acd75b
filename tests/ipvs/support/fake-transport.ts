import type { Transport } from "../../../src/ipvs/transport/transport.ts";
import { type Bytes, datagram } from "./bytes.ts";

/** A request as the fake kernel sees it. */
export interface SentRequest {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  command: number;
  /** The message's bytes. */
  bytes: Uint8Array;
}

/** Answers the requests of one send with datagrams, each a list of messages. */
export type Responder = (requests: SentRequest[]) => Bytes[][];

/** Adapts a per-request responder: every request's datagrams are queued in order, as the kernel does. */
export function eachRequest(respond: (request: SentRequest) => Bytes[][]): Responder {
  return (requests) => requests.flatMap(respond);
}

/**
 * A Transport that hands every send to a responder and queues its datagrams, as the kernel does: netlink processes
 * requests synchronously during the send. `receive` with nothing queued fails the test instead of blocking.
 */
export class FakeTransport implements Transport {
  readonly requests: SentRequest[] = [];
  /** Number of requests in each send. */
  readonly sends: number[] = [];
  readonly queue: Uint8Array[] = [];
  /** Most datagrams waiting to be read after a send: with one acknowledgement per datagram, the requests in flight. */
  maxQueued = 0;
  familyLookups = 0;
  closed = false;
  /** Set to make the next receive fail, as a broken socket would. */
  failNextReceive: Error | undefined;

  constructor(
    readonly respond: Responder,
    readonly family = 32,
    readonly port = 4242,
  ) {}

  familyId(): number {
    this.familyLookups++;
    return this.family;
  }

  portId(): number {
    return this.port;
  }

  send(messages: Uint8Array): void {
    const view = new DataView(messages.buffer, messages.byteOffset, messages.byteLength);
    const requests: SentRequest[] = [];
    for (let at = 0; at < messages.length; ) {
      const length = view.getUint32(at, true);
      requests.push({
        type: view.getUint16(at + 4, true),
        flags: view.getUint16(at + 6, true),
        seq: view.getUint32(at + 8, true),
        pid: view.getUint32(at + 12, true),
        command: messages[at + 16] ?? -1,
        bytes: messages.slice(at, at + length),
      });
      at += (length + 3) & ~3;
    }
    this.requests.push(...requests);
    this.sends.push(requests.length);
    for (const reply of this.respond(requests)) this.queue.push(datagram(...reply));
    this.maxQueued = Math.max(this.maxQueued, this.queue.length);
  }

  receive(): Uint8Array {
    const failure = this.failNextReceive;
    if (failure) {
      this.failNextReceive = undefined;
      throw failure;
    }
    const next = this.queue.shift();
    if (!next) throw new Error("FakeTransport: receive() with no datagram queued (the client would block forever)");
    return next;
  }

  close(): void {
    this.closed = true;
  }
}
