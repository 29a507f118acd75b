/** Glob patterns as glob(3) expands them for nginx and keepalived includes: `*`, `?`, `[...]`, per path component. */

import type { SourceReader } from "./source.ts";

export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** Every file matching an absolute pattern, sorted as glob(3) sorts them. Names starting with "." need a literal ".". */
export function expandGlob(pattern: string, reader: SourceReader): string[] {
  const parts = pattern.split("/").filter((part, index) => part !== "" || index === 0);
  let folders = [parts[0] === "" ? "" : "."];
  for (let i = parts[0] === "" ? 1 : 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const folder of folders) {
      if (!hasGlob(part)) {
        next.push(`${folder}/${part}`);
        continue;
      }
      const matcher = componentMatcher(part);
      for (const name of reader.list(folder === "" ? "/" : folder).sort()) {
        if (name.startsWith(".") && !part.startsWith(".")) continue;
        if (matcher.test(name)) next.push(`${folder}/${name}`);
      }
    }
    folders = last ? next.filter((path) => reader.isFile(path)) : next;
  }
  return folders.sort();
}

function componentMatcher(part: string): RegExp {
  let source = "";
  for (let i = 0; i < part.length; i++) {
    const ch = part[i]!;
    if (ch === "*") source += "[^/]*";
    else if (ch === "?") source += "[^/]";
    else if (ch === "[") {
      const close = part.indexOf("]", i + 2);
      if (close === -1) {
        source += "\\[";
        continue;
      }
      let body = part.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else source += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
