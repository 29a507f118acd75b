/** A small seeded generator (mulberry32): the same seed gives the same inputs, so every finding can be replayed. */

export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const below = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    below,
    pick: (items) => items[below(items.length)]!,
    chance: (p) => next() < p,
  };
}

/** A fresh seed for a run that was given none; printed so the run can be repeated. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
