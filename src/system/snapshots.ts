/**
 * Snapshot files in `system.state_dir/snapshots` (plan/snapshot.ts says what they hold): one JSON file per
 * snapshot, named by its id, written atomically; the oldest removed beyond `system.snapshots_kept`; read back
 * bounded in size. Ids sort by time: `20260601T120000.123Z-apply`.
 */

import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import { readBounded } from "./bounded-read.ts";
import { StateFileError } from "./managed-vips.ts";

/** A snapshot of 100,000 destinations is about 25 MB. */
const MAX_BYTES = 64 * 1024 * 1024;
const ID = /^\d{8}T\d{6}\.\d{3}Z-[a-z]+(-\d+)?$/;

export function snapshotFolder(stateDir: string): string {
  return join(stateDir, "snapshots");
}

export function isSnapshotId(id: string): boolean {
  return ID.test(id);
}

/** A new id for a snapshot taken at `at` for `reason`, unique in the folder. */
export function newSnapshotId(stateDir: string, at: Date, reason: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, "");
  const taken = new Set(listSnapshotIds(stateDir));
  let id = `${stamp}-${reason}`;
  for (let n = 2; taken.has(id); n++) id = `${stamp}-${reason}-${n}`;
  return id;
}

/** Every snapshot id, oldest first. */
export function listSnapshotIds(stateDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(snapshotFolder(stateDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new StateFileError(`Cannot list ${snapshotFolder(stateDir)}: ${(error as Error).message}`);
  }
  return names
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .filter(isSnapshotId)
    .sort();
}

/** Writes the snapshot, then removes the oldest beyond `keep`; returns the ids removed. */
export function writeSnapshot(stateDir: string, id: string, text: string, keep: number): string[] {
  if (!isSnapshotId(id)) throw new StateFileError(`Not a snapshot id: ${id}`);
  const folder = snapshotFolder(stateDir);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(folder, `${id}.json`), text, { mode: 0o600 });
  const ids = listSnapshotIds(stateDir);
  const removed = ids.slice(0, Math.max(0, ids.length - Math.max(1, keep)));
  for (const old of removed) {
    try {
      unlinkSync(join(folder, `${old}.json`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new StateFileError(`Cannot remove the old snapshot ${old}: ${(error as Error).message}`);
    }
  }
  return removed;
}

/** The snapshot's text, by id or `latest`. Throws StateFileError naming what is missing or unreadable. */
export function readSnapshotText(stateDir: string, idOrLatest: string): { id: string; text: string; path: string } {
  const id = idOrLatest === "latest" ? listSnapshotIds(stateDir).at(-1) : idOrLatest;
  if (id === undefined) throw new StateFileError(`No snapshot in ${snapshotFolder(stateDir)} yet`);
  if (!isSnapshotId(id)) throw new StateFileError(`"${id}" is not a snapshot id (lbctl snapshot list shows them; or say latest)`);
  const path = join(snapshotFolder(stateDir), `${id}.json`);
  let text: string | undefined;
  try {
    text = readBounded(path, MAX_BYTES);
  } catch (error) {
    throw new StateFileError((error as Error).message);
  }
  if (text === undefined) throw new StateFileError(`No snapshot ${id} in ${snapshotFolder(stateDir)} (lbctl snapshot list shows them)`);
  return { id, text, path };
}
