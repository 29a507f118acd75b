/**
 * The seam for producers of desired services. The service files (the main file and its includes) are the first
 * source; a control-plane replica and Kubernetes Services plug in beside them without changing the controller,
 * which merges what every source last loaded successfully (merge.ts).
 */

import type { ConfigIssue } from "../../config/errors.ts";
import type { LoadedService, MainFile } from "../../config/model.ts";

export interface SourceServices {
  services: LoadedService[];
  /** Files the services came from, for `config-loaded` events and the config hash. */
  files: string[];
  /** The daemon's own settings; only the first source (the main file) gives them. */
  main?: MainFile;
  /** The main file these came from, with `main`. */
  mainFile?: string;
}

export type SourceLoad =
  | ({ ok: true } & SourceServices)
  /** `unreadable`: a file that does not exist or cannot be read (exit 2 at start); `invalid`: read, not valid (exit 1). */
  | { ok: false; code: "unreadable" | "invalid"; issues: ConfigIssue[] };

export interface ServiceSource {
  /** Names the source in messages: "files", later e.g. "replica" or "kubernetes". */
  readonly name: string;
  /** Reads the source now: every service it holds, validated, or every problem found, located. */
  load(): SourceLoad;
  /**
   * Calls `listener` whenever the source has something new to load (a watch event); returns the function that stops
   * it. A source without it is loaded at start and on every reload (SIGHUP, `lbctl reload`).
   */
  watch?(listener: () => void): () => void;
  /**
   * Why rules of `service` (a name this source gave: one of its virtual services, or a destination) are removed,
   * when the removal is the decision of the source's own truth (the cluster deleted a Service, a node left): such
   * removals are exempt from the change limits and audited as such. undefined: the removal counts against the
   * limits, as every removal from the files does.
   */
  removalReason?(service: string, removed: "virtual-service" | "destination"): string | undefined;
}
