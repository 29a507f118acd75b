/**
 * The pending changes of a config-mode session: each touched service as a draft against the service it was opened
 * from (its file, its index there, its mapping then). Nothing is written until commit; `show` renders the set as a
 * diff. Pure: maps in, new maps out.
 */

import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import type { RawService } from "./draft.ts";
import { lineDiff } from "./line-diff.ts";

/** Where a service was, as read from disk: `services[index]` of `file`, and its mapping there. */
export interface ServiceOrigin {
  file: string;
  index: number;
  raw: RawService;
}

export type PendingChange =
  | { kind: "new"; name: string; draft: RawService }
  | { kind: "modified"; name: string; origin: ServiceOrigin; draft: RawService }
  | { kind: "deleted"; name: string; origin: ServiceOrigin };

export type Pending = ReadonlyMap<string, PendingChange>;

export const NO_CHANGES: Pending = new Map();

/** Records the draft of `name`; a draft equal to its origin is no change at all. */
export function stage(pending: Pending, name: string, origin: ServiceOrigin | undefined, draft: RawService): Pending {
  const next = new Map(pending);
  if (!origin) next.set(name, { kind: "new", name, draft });
  else if (isDeepStrictEqual(origin.raw, draft)) next.delete(name);
  else next.set(name, { kind: "modified", name, origin, draft });
  return next;
}

/** Deleting a service that is only pending as new forgets it; one on disk is marked deleted. */
export function markDeleted(pending: Pending, name: string, origin: ServiceOrigin | undefined): Pending {
  const next = new Map(pending);
  if (origin) next.set(name, { kind: "deleted", name, origin });
  else next.delete(name);
  return next;
}

/** The draft a `service NAME` command continues: the pending one, else the one on disk, else none (a new service). */
export function draftOf(pending: Pending, name: string, onDisk: ServiceOrigin | undefined): RawService | undefined {
  const change = pending.get(name);
  if (change?.kind === "deleted") return undefined;
  if (change) return change.draft;
  return onDisk?.raw;
}

export function serviceYaml(service: RawService): string[] {
  return stringify([service], { lineWidth: 0 }).trimEnd().split("\n");
}

/** `show` in config mode: each change with a diff of the service's YAML. */
export function renderPending(pending: Pending): string[] {
  if (pending.size === 0) return ["No pending changes."];
  const lines: string[] = [];
  for (const change of [...pending.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    if (change.kind === "new") {
      lines.push(`+ service ${change.name} (new)`);
      lines.push(...serviceYaml(change.draft).map((line) => `+ ${line}`));
    } else if (change.kind === "modified") {
      lines.push(`~ service ${change.name} (modified, ${change.origin.file})`);
      lines.push(...lineDiff(serviceYaml(change.origin.raw), serviceYaml(change.draft)));
    } else {
      lines.push(`- service ${change.name} (deleted from ${change.origin.file})`);
      lines.push(...serviceYaml(change.origin.raw).map((line) => `- ${line}`));
    }
  }
  return lines;
}
