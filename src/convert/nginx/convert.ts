/** nginx configuration → converted services: parse (files through the injected reader), map, name uniquely. */

import { uniqueNames } from "../draft.ts";
import type { SourceReader } from "../source.ts";
import { mapNginx, type Conversion, type NginxMapOptions } from "./map.ts";
import { parseNginx, type Directive } from "./parse.ts";
import { parseEndpoint } from "./address.ts";

export function convertNginx(reader: SourceReader, main: string, options: NginxMapOptions = {}): Conversion {
  const config = parseNginx(reader, main);
  const result = mapNginx(config, options);
  uniqueNames(result.services);
  return result;
}

/** Host names used as upstream servers or proxy_pass targets: what --resolve looks up before mapping. */
export function nginxHostNames(reader: SourceReader, main: string): string[] {
  const names = new Set<string>();
  const stack: Directive[][] = [parseNginx(reader, main).directives];
  while (stack.length > 0) {
    for (const d of stack.pop()!) {
      if ((d.name === "server" || d.name === "proxy_pass") && d.args[0] && !d.block) {
        const target = d.args[0].replace(/^https?:\/\//, "").replace(/\/.*$/, "");
        const endpoint = parseEndpoint(target);
        if (endpoint.kind === "host") names.add(endpoint.host);
      }
      if (d.block) stack.push(d.block);
    }
  }
  return [...names];
}
