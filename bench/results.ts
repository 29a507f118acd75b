/**
 * The machine-readable output of a benchmark: one `BENCH {json}` line per figure, printed beside the human rows.
 * bench/run.ts collects them into a results file (JSON lines) and bench/summary.ts turns that file into the summary
 * table of docs/performance.md, so no figure there is typed by hand.
 */

export const RESULT_PREFIX = "BENCH ";

export interface BenchResult {
  /** The figure's id in docs/performance.md (B0, P1, ..., E1); several results may share one id. */
  id: string;
  /** The scenario of the id, the same for all its results: "10,000 TCP targets at 1 s on loopback". */
  what: string;
  /** This figure: "probes started ≤ 50 ms late, of those scheduled". */
  name: string;
  /** "≤ 100 ms"; absent for a figure given for context (a peer, a breakdown). */
  target?: string;
  /** The figure as a reader should see it: "26 ms median, 65 ms worst". */
  measured: string;
  /** The headline number and its unit, for tools. */
  value: number;
  unit: string;
  /** Whether the target is met; true for a figure without a target. */
  ok: boolean;
  /** Where it ran: the host, or the kernel lab's emulated guest. */
  where: "host" | "guest";
  /** The bench's name in bench/run.ts (`npm run bench -- NAME` reproduces it). */
  bench: string;
  /** Set when other work on the machine took enough CPU during the run to make the figure doubtful. */
  loaded?: boolean;
  /** Added by bench/run.ts: when the run started (ISO 8601) and the commit measured. */
  at?: string;
  commit?: string;
}

export function formatResultLine(result: BenchResult): string {
  return `${RESULT_PREFIX}${JSON.stringify(result)}`;
}

const REQUIRED: Array<[keyof BenchResult, string]> = [
  ["id", "string"],
  ["what", "string"],
  ["name", "string"],
  ["measured", "string"],
  ["value", "number"],
  ["unit", "string"],
  ["ok", "boolean"],
  ["where", "string"],
  ["bench", "string"],
];

/** Checks one decoded result; throws a RangeError naming the first missing or mistyped field. */
export function validateResult(value: unknown): BenchResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RangeError("A bench result is a JSON object");
  const record = value as Record<string, unknown>;
  for (const [key, type] of REQUIRED) {
    if (typeof record[key] !== type) throw new RangeError(`A bench result needs "${key}" (a ${type}): ${JSON.stringify(value)}`);
  }
  if (record.where !== "host" && record.where !== "guest") throw new RangeError(`"where" is host or guest, not ${JSON.stringify(record.where)}`);
  if (record.target !== undefined && typeof record.target !== "string") throw new RangeError(`"target" is a string: ${JSON.stringify(value)}`);
  return record as unknown as BenchResult;
}

/** The results a bench printed, in order; other lines are ignored. Throws on a malformed BENCH line. */
export function parseResultLines(output: string): BenchResult[] {
  const results: BenchResult[] = [];
  for (const line of output.split("\n")) {
    const trimmed = line.trimEnd();
    if (!trimmed.startsWith(RESULT_PREFIX)) continue;
    let decoded: unknown;
    try {
      decoded = JSON.parse(trimmed.slice(RESULT_PREFIX.length));
    } catch {
      throw new RangeError(`Not JSON after "${RESULT_PREFIX.trim()}": ${trimmed}`);
    }
    results.push(validateResult(decoded));
  }
  return results;
}

/** A results file: one result per line, as JSON. */
export function parseResultsFile(text: string): BenchResult[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return validateResult(JSON.parse(line));
      } catch (error) {
        throw new RangeError(`Line ${index + 1} of the results file: ${(error as Error).message}`);
      }
    });
}

export function formatResultsFile(results: readonly BenchResult[]): string {
  return results.map((r) => `${JSON.stringify(r)}\n`).join("");
}

/**
 * The earlier results with those of the benches that ran now put in their place: a bench run alone updates its own
 * rows and keeps the others (each row carries its own date and commit). A bench new to the file goes at the end.
 */
export function mergeResults(earlier: readonly BenchResult[], fresh: readonly BenchResult[]): BenchResult[] {
  const freshByBench = new Map<string, BenchResult[]>();
  for (const result of fresh) freshByBench.set(result.bench, [...(freshByBench.get(result.bench) ?? []), result]);
  const merged: BenchResult[] = [];
  for (const result of earlier) {
    const replacement = freshByBench.get(result.bench);
    if (replacement === undefined) merged.push(result);
    else if (replacement.length > 0) {
      merged.push(...replacement);
      freshByBench.set(result.bench, []);
    }
  }
  for (const rest of freshByBench.values()) merged.push(...rest);
  return merged;
}

/** The results ordered as the benches are listed (`order`, bench names), each bench's own lines kept in order; benches not listed go last. */
export function orderResults(results: readonly BenchResult[], order: readonly string[]): BenchResult[] {
  const rank = (r: BenchResult) => {
    const index = order.indexOf(r.bench);
    return index < 0 ? order.length : index;
  };
  return results
    .map((result, index) => ({ result, index }))
    .sort((a, b) => rank(a.result) - rank(b.result) || a.index - b.index)
    .map(({ result }) => result);
}

/**
 * What a run of some benches printed: their results, and a problem for each bench that printed none (it measured
 * nothing, whatever its exit status) or for a malformed BENCH line.
 */
export function resultsOfRun(benches: readonly string[], output: string): { results: BenchResult[]; problems: string[] } {
  let printed: BenchResult[];
  try {
    printed = parseResultLines(output);
  } catch (error) {
    return { results: [], problems: [(error as Error).message] };
  }
  const results = printed.filter((r) => benches.includes(r.bench));
  const problems = benches.filter((name) => !results.some((r) => r.bench === name)).map((name) => `${name} printed no result`);
  return { results, problems };
}

/** The exit status of `npm run bench`: 1 on any problem, or on a missed target unless `noFail` (for exploring). */
export function runExitStatus(results: readonly BenchResult[], problems: readonly string[], noFail: boolean): 0 | 1 {
  if (problems.length > 0) return 1;
  return results.some((r) => !r.ok) && !noFail ? 1 : 0;
}
