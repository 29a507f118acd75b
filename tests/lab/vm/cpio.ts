/**
 * A writer for the "newc" cpio format, the one the kernel unpacks as an initramfs. Writing it here keeps the
 * archive reproducible (fixed inode numbers, owners and times) and needs no staging directory.
 */
export type CpioEntry =
  | { kind: "directory"; path: string }
  | { kind: "file"; path: string; data: Uint8Array; executable?: boolean }
  | { kind: "symlink"; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const TRAILER = "TRAILER!!!";

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function padding(length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4);
}

function record(inode: number, mode: number, nlink: number, path: string, data: Uint8Array): Uint8Array[] {
  const name = new TextEncoder().encode(`${path}\0`);
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [inode, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, name.length, 0];
  const header = new TextEncoder().encode(`070701${fields.map(hex8).join("")}`);
  return [header, name, padding(header.length + name.length), data, padding(data.length)];
}

function modeAndData(entry: CpioEntry): { mode: number; nlink: number; data: Uint8Array } {
  switch (entry.kind) {
    case "directory":
      return { mode: S_IFDIR | 0o755, nlink: 2, data: new Uint8Array() };
    case "file":
      return { mode: S_IFREG | (entry.executable ? 0o755 : 0o644), nlink: 1, data: entry.data };
    case "symlink":
      return { mode: S_IFLNK | 0o777, nlink: 1, data: new TextEncoder().encode(entry.target) };
  }
}

/** The archive of the entries, in the order given (a directory must come before what it contains). */
export function encodeCpio(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  entries.forEach((entry, index) => {
    const { mode, nlink, data } = modeAndData(entry);
    parts.push(...record(index + 1, mode, nlink, entry.path.replace(/^\/+/, ""), data));
  });
  parts.push(...record(0, 0, 1, TRAILER, new Uint8Array()));
  return Buffer.concat(parts);
}
