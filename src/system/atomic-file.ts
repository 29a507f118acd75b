/**
 * Files replaced whole or not at all: write a temporary file beside the target, fsync it, rename it over the
 * target, fsync the folder. A crash at any point leaves either the old file or the new one, never a torn one.
 */

import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0644). */
  mode?: number;
}

/** The file-system calls used, so tests can stop the sequence where a crash would. */
export interface FileOps {
  openSync: typeof openSync;
  writeSync: (fd: number, data: Uint8Array) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
  unlinkSync: typeof unlinkSync;
}

const realOps: FileOps = { openSync, writeSync: (fd, data) => writeSync(fd, data), fsyncSync, closeSync, renameSync, unlinkSync };

export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}, ops: FileOps = realOps): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  const fd = ops.openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? 0o644);
  try {
    for (let written = 0; written < bytes.length; ) written += ops.writeSync(fd, bytes.subarray(written));
    ops.fsyncSync(fd);
  } catch (error) {
    ops.closeSync(fd);
    ops.unlinkSync(temporary);
    throw error;
  }
  ops.closeSync(fd);
  try {
    ops.renameSync(temporary, path);
  } catch (error) {
    ops.unlinkSync(temporary);
    throw error;
  }
  syncFolder(folder, ops);
}

/** Makes the rename itself durable; some file systems cannot open a folder for fsync, which is then harmless. */
function syncFolder(folder: string, ops: FileOps): void {
  let fd: number | undefined;
  try {
    fd = ops.openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY);
    ops.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) ops.closeSync(fd);
  }
}
