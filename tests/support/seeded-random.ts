/**
 * Reproducible random inputs for property tests. Every run draws a fresh seed (or takes LBCTL_TEST_SEED), and a
 * failure names the seed and the input, so the exact run can be repeated:
 *
 *   LBCTL_TEST_SEED=1234567 bun test tests/health/checks/dns-message.test.ts
 */

export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, bound). */
  below(bound: number): number;
  bytes(length: number): Uint8Array;
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** mulberry32: 32 bits of state, fast, and good enough to spread test inputs; not for anything secret. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (bound: number) => Math.floor(next() * bound);
  return {
    seed: seed >>> 0,
    next,
    below,
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = below(256);
      return out;
    },
    pick: (items) => items[below(items.length)]!,
    chance: (p) => next() < p,
  };
}

/** LBCTL_TEST_SEED when set (to replay a failure), else a fresh seed. */
export function testSeed(): number {
  const fixed = process.env.LBCTL_TEST_SEED;
  if (fixed !== undefined && fixed !== "") {
    const seed = Number(fixed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`LBCTL_TEST_SEED must be an integer from 0 to 4294967295, not ${fixed}`);
    return seed;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

export interface PropertyOptions<T> {
  runs: number;
  generate(random: Random): T;
  /** How a failing input is shown (default: hex for bytes, JSON otherwise). */
  show?(input: T): string;
  /** Default: testSeed(). */
  seed?: number;
}

/**
 * Checks `property` on `runs` generated inputs. The first input that fails it ends the test with an error naming
 * the seed, the run and the input, the property's own error as its cause.
 */
export function checkProperty<T>(options: PropertyOptions<T>, property: (input: T) => void): void {
  const seed = options.seed ?? testSeed();
  const random = seededRandom(seed);
  const show = options.show ?? defaultShow;
  for (let run = 0; run < options.runs; run++) {
    const input = options.generate(random);
    try {
      property(input);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Property failed on run ${run + 1} of ${options.runs} (replay with LBCTL_TEST_SEED=${seed}), input ${show(input)}:\n${reason}`, { cause: error });
    }
  }
}

function defaultShow(input: unknown): string {
  if (input instanceof Uint8Array) return `0x${Buffer.from(input).toString("hex")} (${input.length} bytes)`;
  return JSON.stringify(input);
}

/** A fresh seed for a run that was given none; printed so the run can be repeated. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
