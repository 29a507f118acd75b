import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a cache entry atomically (readers never see half a file, concurrent builders both succeed) and removes
 * the other entries of the same family, e.g. the initramfs of a kernel that has since been upgraded.
 */
export function replaceCacheEntry(cacheDir: string, family: string, name: string, data: Uint8Array): string {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, name);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, data);
  renameSync(partial, path);
  for (const other of readdirSync(cacheDir)) {
    if (other.startsWith(family) && other !== name && !other.endsWith(".partial")) {
      rmSync(join(cacheDir, other), { force: true });
    }
  }
  return path;
}
