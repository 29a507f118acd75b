import { join, resolve } from "node:path";

/** The checkout this launcher belongs to (tests/lab/vm/ is three levels down). */
export const repoRoot = resolve(import.meta.dir, "../../..");

/** Built kernel images and initramfs archives; git-ignored, safe to delete at any time. */
export const cacheDir = join(repoRoot, ".lab-cache");

/** Files copied into the initramfs, next to this module. */
export const initScriptPath = join(import.meta.dir, "init.sh");
export const modprobeShimPath = join(import.meta.dir, "modprobe-shim.sh");
