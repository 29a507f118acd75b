/**
 * A secondary's handling of one `config.update`, in the order that keeps every refusal harmless: check the update
 * as a whole (paths, checksums, counts, base, digest), refuse symlinked targets, validate the secondary's own main
 * file plus the new files as one config, and only then write the set (replica-store.ts) and reload the daemon in
 * process. A reload the daemon refuses over a change limit puts the old files back (1007): the kernel table never
 * changed, and the files are again the ones it runs.
 */

import { join } from "node:path";
import { loadConfig } from "../config/load.ts";
import { checkUpdate, parseUpdateParams, type CheckedUpdate } from "./bundle.ts";
import { bundleDigest } from "./digest.ts";
import { ControlPlaneError, RpcCode } from "./errors.ts";
import { checksums, includeMatcher, journalFolder, mainFolder, readReplicatedSet } from "./replica-files.ts";
import { checkNoSymlinks, writeSet } from "./replica-store.ts";

export type ReloadOutcome =
  | { result: "success" | "unchanged" }
  | { result: "refused"; message: string; limit?: { name: string; limit: number; planned: number } }
  | { result: "failure"; message: string };

export interface ReplicaDeps {
  mainFile: string;
  include: () => string;
  maxFiles: () => number;
  /** Reloads the daemon from the files now on disk (force: past change limits). */
  reload(options: { force: boolean }): ReloadOutcome;
}

export interface Applied {
  status: "applied" | "unchanged";
  reload_triggered: boolean;
  digest: string;
  written: string[];
  removed: string[];
}

export class Replica {
  constructor(private readonly deps: ReplicaDeps) {}

  /** The digest of the replicated files on disk now (null when there are none: a fresh secondary). */
  currentDigest(): string | null {
    const set = readReplicatedSet(this.deps.mainFile, this.deps.include());
    return set.size === 0 ? null : bundleDigest([...set].map(([path, file]) => ({ path, checksum: file.checksum })));
  }

  apply(params: Record<string, unknown>): Applied {
    const { mainFile } = this.deps;
    const folder = mainFolder(mainFile);
    const include = this.deps.include();
    const current = readReplicatedSet(mainFile, include);
    const checked = checkUpdate(parseUpdateParams(params), checksums(current), includeMatcher(mainFile, include), this.deps.maxFiles());
    if (checked.writes.length === 0 && checked.removes.length === 0) {
      return { status: "unchanged", reload_triggered: false, digest: checked.digest, written: [], removed: [] };
    }
    for (const path of [...checked.writes.map((w) => w.path), ...checked.removes]) checkNoSymlinks(folder, path);
    this.#validate(checked);

    const journal = journalFolder(mainFile, include);
    writeSet(folder, journal, checked.writes, checked.removes);
    const reloaded = this.deps.reload({ force: checked.force });
    if (reloaded.result === "refused" || reloaded.result === "failure") {
      // Put the previous set back: same journaled write, the old contents we read above.
      const restore = [...current].filter(([path, file]) => checked.next.get(path) !== file.checksum).map(([path, file]) => ({ path, content: file.content }));
      const added = [...checked.next.keys()].filter((path) => !current.has(path));
      writeSet(folder, journal, restore, added);
      if (reloaded.result === "refused") {
        throw new ControlPlaneError(RpcCode.changeLimit, `the daemon refused the reload: ${reloaded.message}`, reloaded.limit ? { limit: reloaded.limit } : {});
      }
      throw new ControlPlaneError(RpcCode.configInvalid, `the daemon could not reload: ${reloaded.message}`, { errors: [] });
    }
    return {
      status: "applied",
      reload_triggered: true,
      digest: checked.digest,
      written: checked.writes.map((w) => w.path),
      removed: checked.removes,
    };
  }

  #validate(checked: CheckedUpdate): void {
    const folder = mainFolder(this.deps.mainFile);
    const overlay = new Map<string, string | null>();
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    for (const write of checked.writes) {
      let text: string;
      try {
        text = utf8.decode(write.content);
      } catch {
        throw new ControlPlaneError(RpcCode.configInvalid, `${write.path} is not UTF-8 text`, { errors: [{ file: join(folder, write.path), line: 0, column: 0, path: "", message: "not UTF-8 text" }] });
      }
      overlay.set(join(folder, write.path), text);
    }
    for (const path of checked.removes) overlay.set(join(folder, path), null);
    const result = loadConfig(this.deps.mainFile, { overlay });
    if (!result.ok) {
      throw new ControlPlaneError(RpcCode.configInvalid, `the resulting config is invalid (${result.issues.length} error(s)): ${result.issues[0]?.message ?? ""}`, { errors: result.issues });
    }
  }
}
