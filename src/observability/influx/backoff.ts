/** Delay before retry `attempt` (1, 2, …): exponential from `baseMs`, capped at `maxMs`, with ±20 % jitter. Pure. */
export function retryDelayMs(attempt: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
