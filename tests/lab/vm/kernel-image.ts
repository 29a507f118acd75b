import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { replaceCacheEntry } from "./cache.ts";
import type { LabKernel } from "./kernel.ts";

/** How a bzImage payload may be compressed, and the tool that undoes it. */
const PAYLOAD_FORMATS = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), decompress: ["xz", "-dc", "--single-stream"] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), decompress: ["zstd", "-dcq"] },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), decompress: ["gzip", "-dc"] },
];
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** The magic bytes can also occur by chance before the real payload: try a few occurrences. */
const CANDIDATES_PER_FORMAT = 4;

function decompressPayload(image: Buffer): Buffer | undefined {
  for (const format of PAYLOAD_FORMATS) {
    if (!Bun.which(format.decompress[0]!)) continue;
    let offset = image.indexOf(format.magic);
    for (let tries = 0; offset >= 0 && tries < CANDIDATES_PER_FORMAT; tries++) {
      // Trailing bytes after the payload make some tools exit non-zero: judge by the output instead.
      const result = Bun.spawnSync(format.decompress, { stdin: image.subarray(offset), stderr: "ignore" });
      const output = result.stdout;
      if (output.length > 0 && output.subarray(0, 4).equals(ELF_MAGIC)) return output;
      offset = image.indexOf(format.magic, offset + 1);
    }
  }
  return undefined;
}

/**
 * The kernel image to boot. Under emulation the kernel's own decompression of a bzImage costs several seconds
 * per boot, so the payload is unpacked once into an ELF vmlinux (qemu boots those directly through PVH) and
 * cached. Falls back to the bzImage, which boots too, only slower.
 */
export function ensureUncompressedKernel(kernel: LabKernel, cacheDir: string): string {
  const { size, mtimeMs } = statSync(kernel.vmlinuz);
  const name = `vmlinux-${kernel.version}-${size}-${Math.trunc(mtimeMs)}`;
  const cached = join(cacheDir, name);
  if (existsSync(cached)) return cached;
  const elf = decompressPayload(readFileSync(kernel.vmlinuz));
  if (!elf) return kernel.vmlinuz;
  return replaceCacheEntry(cacheDir, "vmlinux-", name, elf);
}
