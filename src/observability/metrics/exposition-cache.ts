/**
 * lbctl's own families as served, kept between scrapes: a family is rendered again only when the model says it
 * changed (MetricsModel.changedAt), and compressed at most once per change. At 20,000 backends the families that a
 * stats cycle changes are 13 MB, while a reconcile every second changes a few lines.
 *
 * Those 13 MB are rendered ahead, right after the stats sample that changed them (renderAhead), one family per turn
 * of the event loop: a scrape then finds them ready instead of rendering them on its request path, and health
 * probes and reconciles wait for one family's render at most, not the whole exposition's (about 5 ms, not 35, at
 * 20,000 backends on the development host).
 */

import { ByteWriter } from "./byte-writer.ts";
import { writeFamily } from "./exposition.ts";
import type { FamilyKey } from "./families.ts";
import { deflateLastPiece, deflatePiece, gzipMember, type DeflatedPiece } from "./gzip-pieces.ts";
import type { MetricsModel } from "./model.ts";

const BLANK_LINE = new Uint8Array([0x0a, 0x0a]);

/** One family's text as of a generation of the model, preceded by the blank line after the family before it. */
export class RenderedFamily {
  #deflated: Promise<DeflatedPiece> | undefined;

  constructor(
    /** model.changedAt(key) when rendered. */
    readonly generation: number,
    readonly text: Uint8Array,
  ) {}

  /** Whether deflated() has been called (compression started or done). */
  get compressing(): boolean {
    return this.#deflated !== undefined;
  }

  /** The text compressed, once (a failure is not kept: the next scrape tries again). */
  deflated(): Promise<DeflatedPiece> {
    if (!this.#deflated) {
      const pending = deflatePiece(this.text);
      this.#deflated = pending;
      pending.catch(() => {
        if (this.#deflated === pending) this.#deflated = undefined;
      });
    }
    return this.#deflated;
  }
}

/** The next turn of the event loop: timers, sockets and requests that are due run first. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class ExpositionCache {
  readonly #rendered = new Map<FamilyKey, RenderedFamily>();
  readonly #position: ReadonlyMap<FamilyKey, number>;
  /** Families to render ahead of the next scrape, and the pass rendering them (one per turn of the loop). */
  readonly #ahead = new Set<FamilyKey>();
  #pass: Promise<void> | undefined;
  /** Set by the first scrape: without a scraper nothing is rendered ahead. */
  #scraped = false;
  /**
   * Set by the first gzip scrape: from then on each family is handed to the compressor as soon as it is rendered,
   * so the thread pool compresses it while the next family renders (a scraper that asked for gzip asks every time).
   */
  #compressAhead = false;

  constructor(
    private readonly model: MetricsModel,
    /** In the order served. */
    private readonly keys: readonly FamilyKey[],
  ) {
    this.#position = new Map(keys.map((key, i) => [key, i]));
  }

  /**
   * Every family's text as of now: the ones changed since their last render are rendered again, here. A scrape
   * calls settled() first, so that a render ahead in progress finishes in its own turns.
   */
  families(): RenderedFamily[] {
    this.#scraped = true;
    return this.keys.map((key) => this.#current(key));
  }

  /** Renders `keys` in the coming turns of the event loop, each when its turn comes (if it changed since). */
  renderAhead(keys: readonly FamilyKey[]): void {
    if (!this.#scraped) return;
    for (const key of keys) if (this.#position.has(key)) this.#ahead.add(key);
    this.#pass ??= this.#renderPass();
  }

  /** The families whose text changed since they were last rendered. */
  stale(): FamilyKey[] {
    return this.keys.filter((key) => this.#rendered.get(key)?.generation !== this.model.changedAt(key));
  }

  /** Resolves when no render ahead is pending. */
  async settled(): Promise<void> {
    while (this.#pass) await this.#pass;
  }

  async #renderPass(): Promise<void> {
    try {
      while (this.#ahead.size > 0) {
        await nextTurn();
        const [key] = this.#ahead;
        this.#ahead.delete(key!);
        this.#current(key!);
      }
    } catch {
      // Not lost: the family is still stale, so the next scrape renders it on its own path, where an error surfaces.
      this.#ahead.clear();
    } finally {
      this.#pass = undefined;
    }
  }

  #current(key: FamilyKey): RenderedFamily {
    const generation = this.model.changedAt(key);
    const cached = this.#rendered.get(key);
    if (cached?.generation === generation) return cached;
    // Sized from the last render: a family's size changes little between changes.
    const out = new ByteWriter(cached ? cached.text.length + (cached.text.length >> 3) + 64 : 4096);
    if (this.#position.get(key)! > 0) out.bytes(BLANK_LINE);
    writeFamily(this.model, key, out);
    const text = out.result();
    // Kept until the family changes: a buffer that grew by doubling is copied to its size rather than kept half empty.
    const fresh = new RenderedFamily(generation, text.length < text.buffer.byteLength * 0.75 ? new Uint8Array(text) : text);
    this.#rendered.set(key, fresh);
    if (this.#compressAhead) void fresh.deflated().catch(() => {});
    return fresh;
  }

  /** One scrape's exposition: the families as rendered now, then `tail` (the rest, ending the text). */
  exposition(families: readonly RenderedFamily[], tail: Uint8Array): Exposition {
    return exposition(families, tail, () => {
      this.#compressAhead = true;
    });
  }
}

/** One scrape's exposition, in either encoding. */
export interface Exposition {
  /** The text (UTF-8) in pieces, in order: a response body made of them needs no 13 MB join per scrape. */
  readonly parts: readonly Uint8Array[];
  /** The text (UTF-8) in one piece. */
  plain(): Uint8Array;
  /** The same text as one gzip member. */
  gzip(): Promise<Uint8Array>;
}

function exposition(families: readonly RenderedFamily[], tail: Uint8Array, onGzip: () => void): Exposition {
  const parts = [...families.map((family) => family.text), tail];
  return {
    parts,
    plain() {
      let size = 0;
      for (const part of parts) size += part.length;
      // Every byte is written below: no need to zero 13 MB first.
      const out = Buffer.allocUnsafe(size);
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    },
    async gzip() {
      onGzip();
      const pieces = await Promise.all(families.map((family) => family.deflated()));
      return gzipMember([...pieces, deflateLastPiece(tail)]);
    },
  };
}
