/**
 * The wire's framing (spec/controlplane.md "Transport"): one UTF-8 JSON object per line, terminated by `\n`. Pure:
 * bytes in, whole lines out; a line longer than `maxMessageBytes` is reported once and the decoder stops, since the
 * connection is then closed.
 */

export type FrameEvent = { type: "line"; line: string } | { type: "oversize"; bytes: number };

const NEWLINE = 0x0a;

export class LineDecoder {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #failed = false;
  readonly #utf8 = new TextDecoder("utf-8", { fatal: false });

  constructor(private readonly maxMessageBytes: number) {}

  /** Whether an oversize line was seen: nothing more is decoded after that. */
  get failed(): boolean {
    return this.#failed;
  }

  push(chunk: Uint8Array): FrameEvent[] {
    if (this.#failed) return [];
    const events: FrameEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      const size = this.#pendingBytes + (end - start);
      if (size > this.maxMessageBytes) {
        this.#failed = true;
        this.#pending = [];
        this.#pendingBytes = 0;
        events.push({ type: "oversize", bytes: size });
        return events;
      }
      if (newline < 0) {
        this.#pending.push(chunk.slice(start));
        this.#pendingBytes = size;
        break;
      }
      const line = this.#join(chunk.subarray(start, end));
      if (line.trim() !== "") events.push({ type: "line", line });
      start = newline + 1;
    }
    return events;
  }

  #join(last: Uint8Array): string {
    if (this.#pending.length === 0) return this.#utf8.decode(last);
    const whole = new Uint8Array(this.#pendingBytes + last.length);
    let at = 0;
    for (const part of this.#pending) {
      whole.set(part, at);
      at += part.length;
    }
    whole.set(last, at);
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#utf8.decode(whole);
  }
}

/** One message as it goes on the wire. JSON.stringify escapes every newline inside strings. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
