/**
 * The operator's backend overrides on disk: `state_dir/overrides.json`, written atomically after every change so
 * that a daemon restart (or a crash) keeps them. Read once at start, bounded and validated: a file that cannot be
 * trusted stops the start with a message naming it, rather than silently putting drained backends back in service.
 */

import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { OverrideFileError, parseOverrides, serializeOverrides, type BackendOverride } from "../plan/overrides.ts";
import { writeFileAtomic } from "../system/atomic-file.ts";

const FILE = "overrides.json";
/** 10,000 overrides of ~300 bytes each fit with room to spare. */
const MAX_BYTES = 8 * 1024 * 1024;

export interface OverrideStore {
  read(stateDir: string): BackendOverride[];
  write(stateDir: string, overrides: Iterable<BackendOverride>): void;
}

export function overridesFile(stateDir: string): string {
  return join(stateDir, FILE);
}

export const fileOverrideStore: OverrideStore = {
  read(stateDir) {
    const path = overridesFile(stateDir);
    let text: string;
    try {
      if (statSync(path).size > MAX_BYTES) throw new OverrideFileError(`${path} is larger than ${MAX_BYTES} bytes: fix or remove it`);
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (error instanceof OverrideFileError) throw error;
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new OverrideFileError(`Cannot read ${path}: ${(error as Error).message}`);
    }
    return parseOverrides(text, path);
  },
  write(stateDir, overrides) {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeFileAtomic(overridesFile(stateDir), serializeOverrides(overrides), { mode: 0o600 });
  },
};

/** Keeps overrides in memory only: tests, and callers that must not touch the disk. */
export function memoryOverrideStore(initial: BackendOverride[] = []): OverrideStore & { saved: BackendOverride[] } {
  const store = {
    saved: [...initial],
    read: () => [...store.saved],
    write: (_dir: string, overrides: Iterable<BackendOverride>) => void (store.saved = [...overrides]),
  };
  return store;
}
