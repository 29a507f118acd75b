/** keepalived.conf → converted services: parse (files through the injected reader), map, name uniquely. */

import { uniqueNames } from "../draft.ts";
import type { SourceReader } from "../source.ts";
import { mapKeepalived, type Conversion, type KeepalivedMapOptions } from "./map.ts";
import { parseKeepalived } from "./parse.ts";

export function convertKeepalived(reader: SourceReader, main: string, options: KeepalivedMapOptions = {}): Conversion {
  const result = mapKeepalived(parseKeepalived(reader, main), options);
  uniqueNames(result.services);
  return result;
}

/** keepalived names real servers by address only: nothing to look up. */
export function keepalivedHostNames(_reader: SourceReader, _main: string): string[] {
  return [];
}
