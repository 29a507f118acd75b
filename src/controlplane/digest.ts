/** Checksums and the digest of a set of files (spec/controlplane.md "Methods"). Pure. */

import { createHash } from "node:crypto";

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** SHA-256 over `path \n checksum \n` of each file, in byte-wise ascending order of path; "" for the empty set. */
export function bundleDigest(files: Iterable<{ path: string; checksum: string }>): string {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path, "utf8"), Buffer.from(b.path, "utf8")));
  const hash = createHash("sha256");
  for (const file of sorted) hash.update(`${file.path}\n${file.checksum}\n`, "utf8");
  return hash.digest("hex");
}
