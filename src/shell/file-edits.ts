/**
 * The service files a commit writes: each pending change goes into the file that defines the service now (never a
 * second file for the same service), a new service into its own file under the include pattern, a deletion out of
 * its file (the file goes when nothing is left in it). A service that changed on disk since the session opened it
 * is a conflict, not an overwrite. Pure: file texts in, new texts out (null = remove the file).
 */

import { isDeepStrictEqual } from "node:util";
import { isMap, isSeq, parse, parseDocument, stringify, type Document, type YAMLMap } from "yaml";
import type { RawService } from "./draft.ts";
import type { Pending, ServiceOrigin } from "./pending.ts";

/** The services each file defines, by name, from the files' text (a file that does not parse defines none). */
export function servicesInFiles(texts: ReadonlyMap<string, string>): Map<string, ServiceOrigin> {
  const found = new Map<string, ServiceOrigin>();
  for (const [file, text] of texts) {
    let data: unknown;
    try {
      data = parse(text);
    } catch {
      continue;
    }
    const services = (data as { services?: unknown } | null)?.services;
    if (!Array.isArray(services)) continue;
    services.forEach((raw, index) => {
      if (raw && typeof raw === "object" && typeof (raw as RawService).name === "string" && !found.has((raw as RawService).name as string)) {
        found.set((raw as RawService).name as string, { file, index, raw: raw as RawService });
      }
    });
  }
  return found;
}

/**
 * The file a new service goes to: the include pattern with its one `*` replaced by the name (`config.d/*.yaml` →
 * `config.d/web.yaml`); undefined when the pattern has other wildcards, which would leave the choice to a guess.
 */
export function newServiceFile(includePattern: string, name: string): string | undefined {
  const stars = includePattern.split("*").length - 1;
  if (stars !== 1 || /[?[\]{}]/.test(includePattern)) return undefined;
  const slash = includePattern.lastIndexOf("/");
  if (includePattern.indexOf("*") < slash) return undefined;
  return includePattern.replace("*", name);
}

export interface FileEdits {
  /** Absolute file → its new text, or null to remove it. */
  edits: Map<string, string | null>;
  /** Why the commit cannot go ahead (one sentence each). */
  conflicts: string[];
}

interface FileWork {
  replace: Map<number, RawService>;
  remove: number[];
  append: RawService[];
}

/**
 * @param texts every service file on disk now, by absolute path
 * @param fileForNew the absolute file a new service goes to (or undefined when none can be derived)
 */
export function fileEdits(pending: Pending, texts: ReadonlyMap<string, string>, fileForNew: (name: string) => string | undefined): FileEdits {
  const onDisk = servicesInFiles(texts);
  const conflicts: string[] = [];
  const work = new Map<string, FileWork>();
  const workOf = (file: string) => {
    let entry = work.get(file);
    if (!entry) work.set(file, (entry = { replace: new Map(), remove: [], append: [] }));
    return entry;
  };
  for (const change of pending.values()) {
    const current = onDisk.get(change.name);
    if (change.kind === "new") {
      if (current) {
        conflicts.push(`service ${change.name} was created in ${current.file} since this session started: abort, then edit it there`);
        continue;
      }
      const file = fileForNew(change.name);
      if (!file) conflicts.push(`service ${change.name}: cannot derive a file name from the include pattern; create its file by hand or use lbctl edit`);
      else workOf(file).append.push(change.draft);
      continue;
    }
    if (!current) {
      if (change.kind === "modified") conflicts.push(`service ${change.name} was removed from ${change.origin.file} since this session opened it`);
      continue; // a deletion of what is already gone needs nothing
    }
    if (!isDeepStrictEqual(current.raw, change.origin.raw)) {
      conflicts.push(`service ${change.name} changed in ${current.file} since this session opened it: abort and edit it again`);
      continue;
    }
    if (change.kind === "modified") workOf(current.file).replace.set(current.index, change.draft);
    else workOf(current.file).remove.push(current.index);
  }
  const edits = new Map<string, string | null>();
  if (conflicts.length > 0) return { edits, conflicts };
  for (const [file, todo] of work) edits.set(file, editedText(texts.get(file), todo));
  return { edits, conflicts };
}

/**
 * Changes only the keys whose value changed: the untouched keys keep their layout (flow or block) and comments, so
 * a commit's diff of the file shows what the operator changed and nothing else.
 */
function updateKeys(doc: Document, node: YAMLMap, draft: RawService): void {
  const before = node.toJSON() as Record<string, unknown>;
  for (const key of Object.keys(before)) if (!(key in draft)) node.delete(key);
  for (const [key, value] of Object.entries(draft)) {
    if (!isDeepStrictEqual(before[key], value)) node.set(key, doc.createNode(value));
  }
}

/** A file's text with its services replaced, appended and removed; comments outside the touched services stay. */
function editedText(text: string | undefined, todo: FileWork): string | null {
  if (text === undefined || text.trim() === "") return stringify({ services: todo.append }, { lineWidth: 0 });
  const doc = parseDocument(text);
  let services = doc.get("services", true);
  if (!isSeq(services)) {
    doc.set("services", doc.createNode([]));
    services = doc.get("services", true);
  }
  if (!isSeq(services) || !isMap(doc.contents)) return stringify({ services: todo.append }, { lineWidth: 0 });
  for (const [index, draft] of todo.replace) {
    const current = services.get(index, true);
    if (isMap(current)) updateKeys(doc, current, draft);
    else services.set(index, doc.createNode(draft));
  }
  for (const index of [...todo.remove].sort((a, b) => b - a)) services.delete(index);
  for (const draft of todo.append) services.add(doc.createNode(draft));
  if (services.items.length === 0 && doc.contents.items.length === 1) return null;
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
