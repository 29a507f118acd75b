import { expect, test } from "bun:test";
import { encodeCpio } from "./cpio.ts";

interface DecodedEntry {
  name: string;
  mode: number;
  data: string;
}

/** Reads back a newc archive: the independent check is the format description, field by field. */
function decodeCpio(archive: Uint8Array): DecodedEntry[] {
  const text = Buffer.from(archive).toString("latin1");
  const entries: DecodedEntry[] = [];
  let offset = 0;
  const align = (value: number) => (value + 3) & ~3;
  for (;;) {
    expect(text.slice(offset, offset + 6)).toBe("070701");
    const field = (index: number) => Number.parseInt(text.slice(offset + 6 + index * 8, offset + 14 + index * 8), 16);
    const [mode, fileSize, nameSize] = [field(1), field(6), field(11)];
    const name = text.slice(offset + 110, offset + 110 + nameSize - 1);
    const dataStart = align(offset + 110 + nameSize);
    if (name === "TRAILER!!!") return entries;
    entries.push({ name, mode, data: text.slice(dataStart, dataStart + fileSize) });
    offset = align(dataStart + fileSize);
  }
}

test("directories, files and symlinks round-trip through the newc format", () => {
  const archive = encodeCpio([
    { kind: "directory", path: "bin" },
    { kind: "file", path: "/init", data: Buffer.from("#!/bin/sh\n"), executable: true },
    { kind: "file", path: "etc/odd-size", data: Buffer.from("12345") },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
  ]);
  expect(archive.length % 4).toBe(0);
  expect(decodeCpio(archive)).toEqual([
    { name: "bin", mode: 0o040755, data: "" },
    { name: "init", mode: 0o100755, data: "#!/bin/sh\n" },
    { name: "etc/odd-size", mode: 0o100644, data: "12345" },
    { name: "bin/sh", mode: 0o120777, data: "busybox" },
  ]);
});
