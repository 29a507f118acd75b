/** What the table-reader worker (table-reader-worker.ts) posts back, and the check of it on the receiving side. */

import type { KernelServiceEntry } from "./types.ts";

export type TableReaderReply =
  | { kind: "table"; /** JSON of the KernelServiceEntry[] the dump returned */ json: string; readMs: number }
  | { kind: "error"; message: string };

export interface ReadTable {
  entries: KernelServiceEntry[];
  /** How long the worker took to read it (beside whatever the main thread did meanwhile). */
  readMs: number;
}

/** The table of a reply, or the reason there is none. */
export function tableOfReply(reply: unknown): ReadTable | { error: string } {
  if (typeof reply !== "object" || reply === null) return { error: "the table reader posted no reply object" };
  const { kind } = reply as { kind?: unknown };
  if (kind === "error") return { error: String((reply as { message?: unknown }).message) };
  const { json, readMs } = reply as { json?: unknown; readMs?: unknown };
  if (kind !== "table" || typeof json !== "string" || typeof readMs !== "number") return { error: "the table reader posted a malformed reply" };
  const entries: unknown = JSON.parse(json);
  if (!Array.isArray(entries)) return { error: "the table reader posted a table that is not a list" };
  return { entries: entries as KernelServiceEntry[], readMs };
}
