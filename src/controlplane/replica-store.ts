/**
 * Writing a replicated set on a secondary so that a crash leaves the old set or the new one.
 *
 * The choice (docs/control-plane.md, "Crash safety"): every new file is first written in full beside its target
 * under a temporary name and fsynced (a failure here, such as a full disk, removes those and changes nothing);
 * then a journal naming every rename and removal is written atomically into the include pattern's base folder
 * (writable under the shipped unit's ProtectSystem=strict, unlike the main file's folder): that is the
 * commit point. Then the renames and removals run, and the journal is removed. A crash before the journal leaves
 * the old set (plus temporary files, which are ignored: they do not match `*.yaml` patterns as they start with a
 * dot and end in a random suffix); a crash after it is rolled forward by `recoverReplica` before the daemon's
 * first load. In-process, the daemon reloads only after the whole set is in place.
 */

import { closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { ControlPlaneError, RpcCode } from "./errors.ts";

export const JOURNAL_NAME = ".lbctl-replica-journal.json";

interface Journal {
  renames: { from: string; to: string }[];
  removes: string[];
}

/** Refuses (1002) a path whose existing target, or any folder between the main folder and it, is a symlink. */
export function checkNoSymlinks(folder: string, path: string): void {
  let at = folder;
  for (const segment of path.split("/")) {
    at = join(at, segment);
    let isLink = false;
    try {
      isLink = lstatSync(at).isSymbolicLink();
    } catch {
      return; // does not exist yet: nothing below it can be a link
    }
    if (isLink) throw new ControlPlaneError(RpcCode.pathRefused, `path ${JSON.stringify(path)} refused: ${at} is a symbolic link`, { path });
  }
}

export function writeSet(folder: string, journalFolder: string, writes: readonly { path: string; content: Uint8Array }[], removes: readonly string[]): void {
  const staged: { from: string; to: string }[] = [];
  try {
    for (const write of writes) {
      const target = join(folder, write.path);
      mkdirSync(dirname(target), { recursive: true });
      const temporary = join(dirname(target), `.${basename(target)}.lbctl-new-${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
      writeDurably(temporary, write.content);
      staged.push({ from: temporary, to: target });
    }
    mkdirSync(journalFolder, { recursive: true });
    writeFileAtomic(join(journalFolder, JOURNAL_NAME), JSON.stringify({ renames: staged, removes: removes.map((path) => join(folder, path)) } satisfies Journal), { mode: 0o600 });
  } catch (error) {
    for (const file of staged) removeQuietly(file.from);
    throw new ControlPlaneError(RpcCode.writeFailed, `the files could not be written, nothing changed: ${(error as Error).message}`);
  }
  rollForward(journalFolder);
}

/** Completes a set whose journal was committed before a crash. Returns whether there was one. */
export function recoverReplica(journalFolder: string): boolean {
  if (!existsSync(join(journalFolder, JOURNAL_NAME))) return false;
  rollForward(journalFolder);
  return true;
}

function rollForward(folder: string): void {
  const journalPath = join(folder, JOURNAL_NAME);
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as Journal;
  const folders = new Set<string>([folder]);
  for (const { from, to } of journal.renames) {
    if (existsSync(from)) renameSync(from, to); // already renamed when absent (a crash mid-way)
    folders.add(dirname(to));
  }
  for (const path of journal.removes) {
    removeQuietly(path);
    folders.add(dirname(path));
  }
  for (const each of folders) syncFolder(each);
  unlinkSync(journalPath);
  syncFolder(folder);
}

function writeDurably(path: string, content: Uint8Array): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    for (let written = 0; written < content.length; ) written += writeSync(fd, content.subarray(written));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // absent already
  }
}

function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort: some file systems cannot fsync a folder
  }
}
