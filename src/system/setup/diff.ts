/** A unified diff of two texts (pure), for `--dry-run`: what a setup command would change in a file. */

type Op = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Longest-common-subsequence edit script; files here are small (hundreds of lines). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i]! });
      i++;
      j++;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) ops.push({ kind: "-", line: a[i++]! });
    else ops.push({ kind: "+", line: b[j++]! });
  }
  while (i < n) ops.push({ kind: "-", line: a[i++]! });
  while (j < m) ops.push({ kind: "+", line: b[j++]! });
  return ops;
}

/** `--- path` / `+++ path (new)` and hunks with 3 lines of context; "" when the texts are equal. */
export function unifiedDiff(path: string, before: string | undefined, after: string, context = 3): string {
  if (before === after) return "";
  const ops = editScript(splitLines(before ?? ""), splitLines(after));
  const out = [`--- ${before === undefined ? "/dev/null" : path}`, `+++ ${path}`];
  let index = 0;
  while (index < ops.length) {
    while (index < ops.length && ops[index]!.kind === " ") index++;
    if (index >= ops.length) break;
    const start = Math.max(0, index - context);
    let end = index;
    // Extend the hunk while changes are within 2×context lines of each other.
    for (let k = index; k < ops.length; k++) {
      if (ops[k]!.kind !== " ") end = k;
      else if (k - end > 2 * context) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    const oldStart = ops.slice(0, start).filter((op) => op.kind !== "+").length + 1;
    const newStart = ops.slice(0, start).filter((op) => op.kind !== "-").length + 1;
    const hunk = ops.slice(start, stop);
    const oldCount = hunk.filter((op) => op.kind !== "+").length;
    const newCount = hunk.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${oldCount === 0 ? oldStart - 1 : oldStart},${oldCount} +${newCount === 0 ? newStart - 1 : newStart},${newCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    index = stop;
  }
  return `${out.join("\n")}\n`;
}
