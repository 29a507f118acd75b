import type { Transport } from "../transport/transport.ts";
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK } from "./constants.ts";
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
   * Sends `count` write requests, up to `window` per send, and asks for an acknowledgement only on the last one of
   * each send. The kernel processes every message of a send in order during the send itself and answers a refused
   * one with an error whether or not it asked for an acknowledgement, so one read per send tells the verdict of all
   * of them: refused ones by their errors, the rest accepted. This replaces one receive call per request by one per
   * send, which is what bulk programming costs. A send holding a refusal is the last one sent; `succeeded` lists
   * exactly the requests the kernel accepted, including any after the refusal in that same send.
   */
  batch(count: number, encode: EncodeBatchItem, window: number): BatchOutcome {
    const base = this.#take(count);
    const state = new Uint8Array(count);
    let failure: BatchOutcome["failure"];
    const fail = (index: number, errno: number, error?: unknown) => {
      if (failure !== undefined && failure.index < index) return; // the kernel's first refusal is the one to report
      failure = error === undefined ? { index, errno } : { index, errno, error };
    };
    let next = 0;
    let inFlight: { first: number; last: number } | undefined;
    try {
      while (next < count && failure === undefined) {
        const writer = this.#writer;
        writer.reset();
        const first = next;
        let lastStart = -1;
        while (next < count && next - first < window) {
          const start = writer.length;
          try {
            encode(writer, next, (base + next) >>> 0);
          } catch (error) {
            fail(next, 0, error);
            break;
          }
          lastStart = start;
          next++;
        }
        if (lastStart < 0) break;
        writer.setFlag(lastStart, NLM_F_ACK);
        const last = next - 1;
        inFlight = { first, last };
        this.#transport.send(writer.bytes());
        this.#awaitVerdicts(base, first, last, state, fail);
        for (let index = first; index <= last; index++) if (state[index] === 0) state[index] = ACKED;
        inFlight = undefined;
      }
    } catch (error) {
      // The socket failed or sent garbage: the verdicts of the send in flight are lost, so its first unknown
      // request is where the batch stopped.
      const unknown = inFlight ? state.findIndex((item, index) => index >= inFlight!.first && index <= inFlight!.last && item === 0) : -1;
      fail(unknown < 0 ? next : unknown, 0, error);
    }
    const succeeded: number[] = [];
    for (let index = 0; index < state.length; index++) if (state[index] === ACKED) succeeded.push(index);
    return failure === undefined ? { succeeded } : { succeeded, failure };
  }

  /** Reads replies until the verdict of request `last` (its acknowledgement or error) has come. */
  #awaitVerdicts(base: number, first: number, last: number, state: Uint8Array, fail: (index: number, errno: number) => void): void {
    for (;;) {
      const messages = new MessageCursor(this.#transport.receive());
      let done = false;
      while (messages.next()) {
        if (messages.type !== NLMSG_ERROR) continue;
        const index = (messages.seq - base) >>> 0;
        if (index < first || index > last || state[index] !== 0) continue;
        const errno = messages.errno();
        if (errno !== 0) {
          state[index] = REFUSED;
          fail(index, errno);
        } else if (index === last) {
          state[index] = ACKED;
        } else {
          continue; // only the last request asked for an acknowledgement: anything else is stale
        }
        if (index === last) done = true;
      }
      if (done) return;
    }
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
