/** Rotated backups of a file lbctl is about to replace: `<dir>/<name>.<UTC timestamp>`, the newest `keep` kept. */

import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../atomic-file.ts";

export const BACKUPS_KEPT = 5;

/** 2024-05-01T10:20:30.123Z → 20240501T102030123Z: sorts by time, safe in file names. */
export function backupStamp(now: Date): string {
  return now.toISOString().replace(/[-:.]/g, "");
}

/** Writes `text` (the file's current content) as a backup and deletes all but the newest `keep`; returns its path. */
export function writeBackup(file: string, text: string, dir: string, now: Date, keep = BACKUPS_KEPT): string {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const name = basename(file);
  const path = join(dir, `${name}.${backupStamp(now)}`);
  writeFileAtomic(path, text, { mode: 0o640 });
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.\\d{8}T\\d{9}Z$`);
  const backups = readdirSync(dir).filter((entry) => pattern.test(entry)).sort();
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) unlinkSync(join(dir, old));
  return path;
}
