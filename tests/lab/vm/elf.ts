import { openSync, readSync, closeSync } from "node:fs";

const PT_INTERP = 3;

/**
 * True when the file is a 64-bit little-endian ELF executable without a program interpreter, i.e. statically
 * linked. The initramfs has no libc, so a dynamically linked busybox would fail there with an obscure
 * "no working init found" panic; checking up front turns that into a clear message.
 */
export function isStaticElf64(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64) return false;
    const isElf64Le = header.readUInt32BE(0) === 0x7f454c46 && header[4] === 2 && header[5] === 1;
    if (!isElf64Le) return false;
    const programHeaderOffset = Number(header.readBigUInt64LE(32));
    const entrySize = header.readUInt16LE(54);
    const entryCount = header.readUInt16LE(56);
    const table = Buffer.alloc(entrySize * entryCount);
    readSync(fd, table, 0, table.length, programHeaderOffset);
    for (let index = 0; index < entryCount; index++) {
      if (table.readUInt32LE(index * entrySize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
