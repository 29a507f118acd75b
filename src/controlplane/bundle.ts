/**
 * A `config.update`'s params checked as a whole before anything touches the disk: shape, file count, path rules,
 * base64, checksums, base and digest. Pure: the include matcher and the secondary's current set are passed in.
 * The outcome is the exact set of replicated files to hold afterwards, or the spec's error.
 */

import { bundleDigest, sha256Hex } from "./digest.ts";
import { ControlPlaneError, RpcCode } from "./errors.ts";
import { pathProblem, type IncludeMatcher } from "./paths.ts";

export interface ReplicatedFile {
  path: string;
  content: Uint8Array;
  checksum: string;
}

export interface UpdateParams {
  digest: string;
  full: boolean;
  base: string | null;
  force: boolean;
  files: { path: string; content: string; checksum: string }[];
  deleted: string[];
}

/** What the secondary holds now: path → checksum. */
export type CurrentSet = ReadonlyMap<string, string>;

export interface CheckedUpdate {
  digest: string;
  force: boolean;
  /** Every replicated file after the update (unchanged ones carry only their checksum). */
  next: Map<string, string>;
  /** New or changed contents to write. */
  writes: ReplicatedFile[];
  /** Replicated files to remove. */
  removes: string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalid = (message: string) => new ControlPlaneError(RpcCode.invalidParams, message);

export function parseUpdateParams(params: Record<string, unknown>): UpdateParams {
  const { digest, full, base, force, files, deleted } = params;
  if (typeof digest !== "string" || !HEX64.test(digest)) throw invalid("digest must be 64 lowercase hex digits");
  if (typeof full !== "boolean") throw invalid("full must be true or false");
  if (base !== undefined && base !== null && (typeof base !== "string" || !HEX64.test(base))) throw invalid("base must be null or 64 lowercase hex digits");
  if (force !== undefined && typeof force !== "boolean") throw invalid("force must be true or false");
  if (!Array.isArray(files)) throw invalid("files must be a list");
  if (deleted !== undefined && !Array.isArray(deleted)) throw invalid("deleted must be a list");
  for (const [index, file] of files.entries()) {
    if (typeof file !== "object" || file === null) throw invalid(`files[${index}] must be an object`);
    const { path, content, checksum } = file as Record<string, unknown>;
    if (typeof path !== "string" || typeof content !== "string" || typeof checksum !== "string") {
      throw invalid(`files[${index}] needs string path, content and checksum`);
    }
  }
  for (const [index, path] of (deleted ?? []).entries()) if (typeof path !== "string") throw invalid(`deleted[${index}] must be a string`);
  return {
    digest,
    full,
    base: (base as string | null | undefined) ?? null,
    force: force === true,
    files: files as UpdateParams["files"],
    deleted: (deleted as string[] | undefined) ?? [],
  };
}

export function checkUpdate(update: UpdateParams, current: CurrentSet, matches: IncludeMatcher, maxFiles: number): CheckedUpdate {
  if (update.files.length + update.deleted.length > maxFiles) {
    throw new ControlPlaneError(RpcCode.tooManyFiles, `${update.files.length + update.deleted.length} files in one update; the limit (max_files) is ${maxFiles}`, { limit: maxFiles });
  }
  if (update.full && update.deleted.length > 0) throw invalid("a full update must have an empty deleted list");
  if (!update.full && update.base !== bundleDigest(entries(current))) {
    throw new ControlPlaneError(RpcCode.baseMismatch, "the delta's base is not this secondary's current digest", { current: bundleDigest(entries(current)) });
  }
  const seen = new Set<string>();
  for (const path of [...update.files.map((f) => f.path), ...update.deleted]) {
    const problem = pathProblem(path, matches);
    if (problem) throw new ControlPlaneError(RpcCode.pathRefused, `path ${JSON.stringify(path)} refused: ${problem}`, { path });
    if (seen.has(path)) throw new ControlPlaneError(RpcCode.pathRefused, `path ${JSON.stringify(path)} appears twice in the update`, { path });
    seen.add(path);
  }
  const writes: ReplicatedFile[] = [];
  const next = update.full ? new Map<string, string>() : new Map(current);
  for (const file of update.files) {
    if (!HEX64.test(file.checksum)) throw new ControlPlaneError(RpcCode.checksumMismatch, `${file.path}: checksum is not 64 lowercase hex digits`, { path: file.path });
    if (!BASE64.test(file.content)) throw invalid(`${file.path}: content is not base64`);
    const content = new Uint8Array(Buffer.from(file.content, "base64"));
    if (sha256Hex(content) !== file.checksum) throw new ControlPlaneError(RpcCode.checksumMismatch, `${file.path}: checksum does not match the content`, { path: file.path });
    next.set(file.path, file.checksum);
    if (current.get(file.path) !== file.checksum) writes.push({ path: file.path, content, checksum: file.checksum });
  }
  for (const path of update.deleted) next.delete(path);
  const digest = bundleDigest(entries(next));
  if (digest !== update.digest) {
    throw new ControlPlaneError(RpcCode.checksumMismatch, "the update's digest is not the digest of the files it leads to", { expected: update.digest, computed: digest });
  }
  const removes = [...current.keys()].filter((path) => !next.has(path)).sort();
  return { digest, force: update.force, next, writes, removes };
}

export function entries(set: ReadonlyMap<string, string>): { path: string; checksum: string }[] {
  return [...set].map(([path, checksum]) => ({ path, checksum }));
}
