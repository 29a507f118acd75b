import { createHash } from "node:crypto";
import { expect, test } from "bun:test";
import { bundleDigest, sha256Hex } from "../../src/controlplane/digest.ts";

test("the empty set's digest is SHA-256 of the empty string", () => {
  expect(bundleDigest([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("digest is over path\\nchecksum\\n in byte-wise path order, whatever the input order", () => {
  const a = { path: "config.d/b.yaml", checksum: sha256Hex("b") };
  const b = { path: "config.d/a.yaml", checksum: sha256Hex("a") };
  // "Z" (0x5a) sorts before "a" (0x61) byte-wise; é (0xc3…) after every ASCII letter.
  const c = { path: "config.d/Z.yaml", checksum: sha256Hex("z") };
  const d = { path: "config.d/é.yaml", checksum: sha256Hex("e") };
  const expected = createHash("sha256")
    .update([c, b, a, d].map((f) => `${f.path}\n${f.checksum}\n`).join(""))
    .digest("hex");
  expect(bundleDigest([a, b, c, d])).toBe(expected);
  expect(bundleDigest([d, c, b, a])).toBe(expected);
});
