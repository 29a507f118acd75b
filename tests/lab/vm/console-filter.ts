/**
 * The guest's ttyS0 carries firmware chatter, then the command's stdout between two marker lines that carry a
 * per-run nonce (so the command cannot fake them by accident), then nothing of interest. This keeps what lies
 * between the markers, chunk by chunk, holding back only bytes that might be the start of the end marker.
 */
export class FramedOutput {
  readonly #begin: Buffer;
  readonly #end: Buffer;
  #state: "before" | "inside" | "after" = "before";
  #pending: Buffer = Buffer.alloc(0);

  constructor(nonce: string) {
    this.#begin = Buffer.from(`<<lbctl-lab:begin:${nonce}>>\n`);
    this.#end = Buffer.from(`<<lbctl-lab:end:${nonce}>>\n`);
  }

  /** Whether the command has started (the begin marker went by). */
  get started(): boolean {
    return this.#state !== "before";
  }

  /** Whether the guest's init saw the command end and flushed its output. */
  get finished(): boolean {
    return this.#state === "after";
  }

  /** The part of the chunk that belongs to the command's output. */
  push(chunk: Uint8Array): Buffer {
    if (this.#state === "after") return Buffer.alloc(0);
    this.#pending = Buffer.concat([this.#pending, chunk]);
    if (this.#state === "before") {
      const at = this.#pending.indexOf(this.#begin);
      if (at < 0) {
        this.#pending = this.#pending.subarray(Math.max(0, this.#pending.length - this.#begin.length));
        return Buffer.alloc(0);
      }
      this.#state = "inside";
      this.#pending = this.#pending.subarray(at + this.#begin.length);
    }
    const at = this.#pending.indexOf(this.#end);
    if (at >= 0) {
      this.#state = "after";
      const output = this.#pending.subarray(0, at);
      this.#pending = Buffer.alloc(0);
      return output;
    }
    const safe = Math.max(0, this.#pending.length - (this.#end.length - 1));
    const output = this.#pending.subarray(0, safe);
    this.#pending = this.#pending.subarray(safe);
    return output;
  }

  /** Output still held back when the stream ends without an end marker (the guest died mid-command). */
  flush(): Buffer {
    const output = this.#state === "inside" ? this.#pending : Buffer.alloc(0);
    this.#pending = Buffer.alloc(0);
    return output;
  }
}
