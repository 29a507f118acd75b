/**
 * Desired services from several sources as one Config. A source that fails to load keeps the services it last
 * loaded successfully, so a broken file or an unreachable API server never withdraws what it had programmed. Pure.
 */

import type { ConfigIssue } from "../../config/errors.ts";
import { servicePorts, serviceVip, type Config, type LoadedService, type MainFile } from "../../config/model.ts";
import type { SourceLoad, SourceServices } from "./source.ts";

export interface SourceFailure {
  source: string;
  code: "unreadable" | "invalid";
  issues: ConfigIssue[];
  /** The source had loaded before: its last good services stay in the merged config. */
  keptLastGood: boolean;
}

export type MergeResult =
  | {
      ok: true;
      config: Config;
      /** What each source contributes now (fresh, or its last good): the next merge's `lastGood`. */
      good: Map<string, SourceServices>;
      failures: SourceFailure[];
      /** Services left out because an earlier source already defines their name or a virtual service of theirs. */
      conflicts: ConfigIssue[];
    }
  /** The first source (the main file, with the daemon's settings) failed and never loaded before. */
  | { ok: false; failure: SourceFailure };

export interface NamedLoad {
  source: string;
  load: SourceLoad;
}

/**
 * Sources in priority order: the first gives the daemon's settings (`main`) and wins every conflict, then each next
 * one. `lastGood` is the `good` of the previous merge (empty at start).
 */
export function mergeSources(loads: readonly NamedLoad[], lastGood: ReadonlyMap<string, SourceServices>): MergeResult {
  const good = new Map<string, SourceServices>();
  const failures: SourceFailure[] = [];
  for (const { source, load } of loads) {
    if (load.ok) {
      const { ok: _ok, ...services } = load;
      good.set(source, services);
      continue;
    }
    const previous = lastGood.get(source);
    failures.push({ source, code: load.code, issues: load.issues, keptLastGood: previous !== undefined });
    if (previous) good.set(source, previous);
  }
  const primary = loads[0] ? good.get(loads[0].source) : undefined;
  if (!primary?.main || primary.mainFile === undefined) {
    const failure = failures[0] ?? { source: loads[0]?.source ?? "files", code: "invalid", issues: [], keptLastGood: false };
    return { ok: false, failure };
  }
  const contributing = loads.map(({ source }) => good.get(source)).filter((s): s is SourceServices => s !== undefined);
  const conflicts: ConfigIssue[] = [];
  const services = contributing.length === 1 ? primary.services : withoutConflicts(primary.main, contributing, conflicts);
  const config: Config = { mainFile: primary.mainFile, files: contributing.flatMap((s) => s.files), main: primary.main, services };
  return { ok: true, config, good, failures, conflicts };
}

/** Each source was validated on its own; across sources, a name or a PROTO:VIP:PORT may be claimed only once. */
function withoutConflicts(main: MainFile, sources: readonly SourceServices[], conflicts: ConfigIssue[]): LoadedService[] {
  const names = new Map<string, LoadedService>();
  const ports = new Map<string, LoadedService>();
  const out: LoadedService[] = [];
  for (const source of sources) {
    for (const service of source.services) {
      const vip = serviceVip(main, service);
      const claimed = servicePorts(service).map((port) => `${service.protocol}:${vip}:${port}`);
      const owner = names.get(service.name) ?? claimed.map((key) => ports.get(key)).find((s) => s !== undefined);
      if (owner) {
        const what = owner.name === service.name ? `the name "${service.name}"` : `a port of ${service.protocol}:${vip}`;
        conflicts.push({
          file: service.source.file,
          line: 0,
          column: 0,
          path: `services[${service.source.index}]`,
          message: `service "${service.name}" left out: ${what} is already defined by service "${owner.name}" (${owner.source.file})`,
        });
        continue;
      }
      names.set(service.name, service);
      for (const key of claimed) ports.set(key, service);
      out.push(service);
    }
  }
  return out;
}
