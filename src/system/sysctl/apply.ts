/** Applying sysctl values now, by writing /proc/sys (what `sysctl -w` does), one key at a time. */

import { readFileSync, writeFileSync } from "node:fs";
import { procSysPath } from "./profiles.ts";

export interface AppliedSetting {
  key: string;
  value: string;
  before: string | undefined;
  error?: string;
}

export function readSysctl(key: string, root = "/proc/sys"): string | undefined {
  try {
    return readFileSync(procSysPath(key, root), "utf8").trim();
  } catch {
    return undefined;
  }
}

export function applySysctls(settings: readonly { key: string; value: string }[], root = "/proc/sys"): AppliedSetting[] {
  return settings.map(({ key, value }) => {
    const before = readSysctl(key, root);
    if (before === value) return { key, value, before };
    try {
      writeFileSync(procSysPath(key, root), `${value}\n`);
      return { key, value, before };
    } catch (error) {
      return { key, value, before, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
    }
  });
}
