import type { Transport } from "../transport/transport.ts";
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from "./constants.ts";
import { MessageCursor } from "./messages.ts";
import { MessageWriter } from "./writer.ts";

/** Appends one complete request numbered `seq`. */
export type EncodeRequest = (writer: MessageWriter, seq: number) => void;
/** Appends the request for item `index` of a batch, numbered `seq`. */
export type EncodeBatchItem = (writer: MessageWriter, index: number, seq: number) => void;
export type OnMessage = (message: MessageCursor) => void;

export interface BatchOutcome {
  /** Indexes the kernel acknowledged, ascending. */
  succeeded: number[];
  /**
   * The lowest index that did not succeed: refused by the kernel (`errno` > 0), or not encodable / lost with the
   * socket (`errno` 0 and `error` set).
   */
  failure?: { index: number; errno: number; error?: unknown };
}

const ACKED = 1;
const REFUSED = 2;

/**
 * Request/reply bookkeeping over a Transport: sequence numbers, acknowledgements, multi-part dumps and pipelined
 * batches. Replies whose sequence number is not awaited (leftovers of an abandoned request) are skipped.
 */
export class Exchange {
  readonly #transport: Transport;
  readonly #writer = new MessageWriter();
  #seq: number;

  constructor(transport: Transport, firstSeq = Math.floor(Date.now() / 1000)) {
    this.#transport = transport;
    this.#seq = firstSeq >>> 0;
  }

  /** Sends one request carrying NLM_F_ACK; replies go to `onReply`. Returns the kernel's errno, 0 once acknowledged. */
  request(encode: EncodeRequest, onReply?: OnMessage): number {
    const seq = this.#take(1);
    this.#sendOne(encode, seq);
    for (;;) {
      const messages = new MessageCursor(this.#transport.receive());
      while (messages.next()) {
        if (messages.seq !== seq) continue;
        if (messages.type === NLMSG_ERROR || messages.type === NLMSG_DONE) return messages.errno();
        if (messages.type !== NLMSG_NOOP) onReply?.(messages);
      }
    }
  }

  /** Sends one NLM_F_DUMP request and feeds each part to `onMessage` until NLMSG_DONE. Returns the errno, 0 when whole. */
  dump(encode: EncodeRequest, onMessage: OnMessage): number {
    const seq = this.#take(1);
    this.#sendOne(encode, seq);
    for (;;) {
      const messages = new MessageCursor(this.#transport.receive());
      while (messages.next()) {
        if (messages.seq !== seq) continue;
        if (messages.type === NLMSG_DONE) return messages.errno();
        if (messages.type === NLMSG_ERROR) {
          const errno = messages.errno();
          if (errno !== 0) return errno;
          continue; // an acknowledgement, if the request asked for one, is not the end of a dump
        }
        if (messages.type === NLMSG_NOOP || messages.type === NLMSG_OVERRUN) continue;
        onMessage(messages);
      }
    }
  }

  /**
   * Sends `count` acknowledged requests, many per send, with at most `window` unacknowledged at any time (the
   * socket's receive buffer holds only so many acknowledgements). Stops sending at the first refusal but still reads
   * the acknowledgements of everything already sent, so `succeeded` is exact.
   */
  batch(count: number, encode: EncodeBatchItem, window: number): BatchOutcome {
    const base = this.#take(count);
    const state = new Uint8Array(count);
    const refill = Math.max(1, window >> 1);
    let sent = 0;
    let pending = 0;
    let failure: BatchOutcome["failure"];
    const fail = (index: number, errno: number, error?: unknown) => {
      if (failure !== undefined && failure.index < index) return; // the kernel's first refusal is the one to report
      failure = error === undefined ? { index, errno } : { index, errno, error };
    };
    try {
      while (sent < count || pending > 0) {
        if (failure === undefined && sent < count && window - pending >= Math.min(refill, count - sent)) {
          const writer = this.#writer;
          writer.reset();
          let added = 0;
          while (sent < count && pending < window) {
            try {
              encode(writer, sent, (base + sent) >>> 0);
            } catch (error) {
              fail(sent, 0, error);
              break;
            }
            sent++;
            pending++;
            added++;
          }
          if (added > 0) this.#transport.send(writer.bytes());
          if (failure !== undefined) count = sent; // nothing after the unencodable item is sent
          continue;
        }
        const messages = new MessageCursor(this.#transport.receive());
        while (messages.next()) {
          if (messages.type !== NLMSG_ERROR) continue;
          const index = (messages.seq - base) >>> 0;
          if (index >= sent || state[index] !== 0) continue;
          const errno = messages.errno();
          pending--;
          state[index] = errno === 0 ? ACKED : REFUSED;
          if (errno !== 0) {
            fail(index, errno);
            count = sent;
          }
        }
      }
    } catch (error) {
      // The socket failed or sent garbage: acknowledgements still owed are lost, so stop at the first unknown one.
      const unknown = state.findIndex((item, index) => index < sent && item === 0);
      fail(unknown < 0 ? sent : unknown, 0, error);
    }
    const succeeded: number[] = [];
    for (let index = 0; index < state.length; index++) if (state[index] === ACKED) succeeded.push(index);
    return failure === undefined ? { succeeded } : { succeeded, failure };
  }

  #sendOne(encode: EncodeRequest, seq: number): void {
    const writer = this.#writer;
    writer.reset();
    encode(writer, seq);
    this.#transport.send(writer.bytes());
  }

  /** Reserves `count` consecutive sequence numbers and returns the first. */
  #take(count: number): number {
    const first = this.#seq;
    this.#seq = (this.#seq + count) >>> 0;
    return first;
  }
}
