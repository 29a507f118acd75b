/**
 * lbctl's own families as served, kept between scrapes: a family is rendered again only when the model says it
 * changed (MetricsModel.changedAt), and compressed at most once per change. At 20,000 backends the families that a
 * stats cycle changes are 13 MB, while a reconcile every second changes a few lines.
 *
 * Those 13 MB are rendered ahead, right after the stats sample that changed them (renderAhead), one family per turn
 * of the event loop, then compressed on libuv's thread pool once a scraper has asked for gzip: a scrape finds them
 * ready instead of rendering them on its request path, and health probes and reconciles wait for one family's render
 * at most, not the whole exposition's (about 5 ms, not 35, at 20,000 backends on the development host).
 *
 * Until that pass is done, a scrape is served the sample's families as they were just before it: the previous
 * sample's counters, all of them (never some families of one sample and some of the next), so it waits for nothing.
 * That holds only while nothing but the sample changed them since and they were all current just before it (a
 * weight change, a reload, a second sample during the pass: the scrape waits for the pass and has every change). A
 * scrape is thus at most one stats sample behind, for the length of one pass (well under one stats period).
 */

import { ByteWriter } from "./byte-writer.ts";
import { writeFamily } from "./exposition.ts";
import type { FamilyKey } from "./families.ts";
import { deflateLastPiece, deflatePiece, gzipMember, type DeflatedPiece } from "./gzip-pieces.ts";
import type { MetricsModel, StatsChange } from "./model.ts";

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

/** A render ahead in progress: the families of one stats sample (or more), rendered, then compressed. */
interface Pass {
  readonly done: Promise<void>;
  /** Each family of the sample and its generation right after it (model.changedAt). */
  readonly generations: ReadonlyMap<FamilyKey, number>;
  /**
   * Those families as rendered just before the sample, when every one of them was current then: what a scrape
   * serves until the pass is done. Dropped when a second sample arrives during the pass.
   */
  previous: ReadonlyMap<FamilyKey, RenderedFamily> | undefined;
}

export class ExpositionCache {
  readonly #rendered = new Map<FamilyKey, RenderedFamily>();
  readonly #position: ReadonlyMap<FamilyKey, number>;
  /** Families to render ahead of the next scrape, and the pass rendering them (one per turn of the loop). */
  readonly #ahead = new Set<FamilyKey>();
  #pass: Pass | undefined;
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
   * Every family's text as of now: the ones changed since their last render are rendered again, here, including
   * those a render ahead has not reached yet.
   */
  families(): RenderedFamily[] {
    this.#scraped = true;
    return this.keys.map((key) => this.#current(key));
  }

  /**
   * The families a scrape serves now: during a render ahead, the sample's families as they were just before it
   * (when that is consistent, see the module's comment) and the others as of now; otherwise, once no render ahead
   * is pending, families().
   */
  async served(): Promise<RenderedFamily[]> {
    const previous = this.#previous();
    if (previous) {
      this.#scraped = true;
      return this.keys.map((key) => previous.get(key) ?? this.#current(key));
    }
    await this.settled();
    return this.families();
  }

  /** Renders the sample's families in the coming turns of the event loop, each when its turn comes. */
  renderAhead(change: StatsChange): void {
    const keys = change.families.filter((key) => this.#position.has(key));
    if (!this.#scraped || keys.length === 0) return;
    for (const key of keys) this.#ahead.add(key);
    if (this.#pass) {
      // Two samples in one pass: serving the one before both would put a scrape two samples behind.
      this.#pass.previous = undefined;
      return;
    }
    const previous = new Map<FamilyKey, RenderedFamily>();
    for (const key of keys) {
      const rendered = this.#rendered.get(key);
      if (rendered && rendered.generation === change.before.get(key)) previous.set(key, rendered);
    }
    this.#pass = {
      generations: new Map(keys.map((key) => [key, this.model.changedAt(key)])),
      previous: previous.size === keys.length ? previous : undefined,
      done: this.#renderPass(),
    };
  }

  /** The families whose text changed since they were last rendered. */
  stale(): FamilyKey[] {
    return this.keys.filter((key) => this.#rendered.get(key)?.generation !== this.model.changedAt(key));
  }

  /** Resolves when no render ahead is pending. */
  async settled(): Promise<void> {
    while (this.#pass) await this.#pass.done;
  }

  /** The pass's families as before its sample, if a scrape may be served them now. */
  #previous(): ReadonlyMap<FamilyKey, RenderedFamily> | undefined {
    const pass = this.#pass;
    if (!pass?.previous) return undefined;
    for (const [key, generation] of pass.generations) if (this.model.changedAt(key) !== generation) return undefined;
    return pass.previous;
  }

  async #renderPass(): Promise<void> {
    try {
      do {
        const fresh: RenderedFamily[] = [];
        while (this.#ahead.size > 0) {
          await nextTurn();
          const [key] = this.#ahead;
          this.#ahead.delete(key!);
          fresh.push(this.#current(key!));
        }
        // Done when compressed too: a gzip scrape served the new families would otherwise wait for the compressor.
        if (this.#compressAhead) await Promise.allSettled(fresh.map((family) => family.deflated()));
      } while (this.#ahead.size > 0);
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
