import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { LabUnavailableError } from "./errors.ts";
import { findTool } from "./tools.ts";

/** busybox insmod takes plain ELF objects; distributions may ship modules xz-, zstd- or gzip-compressed. */
const DECOMPRESSORS: Record<string, { tool: string; args: string[]; packageName: string }> = {
  ".xz": { tool: "xz", args: ["-dc"], packageName: "xz-utils" },
  ".zst": { tool: "zstd", args: ["-dcq"], packageName: "zstd" },
  ".gz": { tool: "gzip", args: ["-dc"], packageName: "gzip" },
};

/** The module's file name once decompressed, e.g. ip_vs.ko for ip_vs.ko.xz. */
export function plainModuleName(path: string): string {
  return basename(path).replace(/\.(xz|zst|gz)$/, "");
}

/** The module as an uncompressed ELF object. */
export function readModule(path: string): Uint8Array {
  const data = readFileSync(path);
  const suffix = /\.(xz|zst|gz)$/.exec(path)?.[0];
  if (!suffix) return data;
  const decompressor = DECOMPRESSORS[suffix]!;
  const tool = findTool(decompressor.tool);
  if (!tool) {
    throw new LabUnavailableError(
      `The kernel modules are compressed (${suffix}) but ${decompressor.tool} is not installed (package ${decompressor.packageName}); run tests/lab/setup.sh`,
    );
  }
  const result = Bun.spawnSync([tool, ...decompressor.args], { stdin: data, stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new LabUnavailableError(`Could not decompress ${path}: ${result.stderr.toString().trim()}`);
  }
  return result.stdout;
}
