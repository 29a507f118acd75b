/**
 * Reads a state file whole, refusing one larger than a bound before reading it: a state file that grew by mistake
 * (or was replaced by something else) must not make lbctl allocate without limit.
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export class BoundedReadError extends Error {
  override readonly name = "BoundedReadError";
}

/** The file's text, or undefined when it does not exist. Throws BoundedReadError when it is not a regular file or too large. */
export function readBounded(path: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BoundedReadError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new BoundedReadError(`${path} is not a regular file`);
    if (stat.size > maxBytes) throw new BoundedReadError(`${path} is ${stat.size} bytes, more than the ${maxBytes} lbctl reads`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
