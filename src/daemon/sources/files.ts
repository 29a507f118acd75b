/** The service files as a source: the main file, its settings, and the service files its `include` matches. */

import type { Environment } from "../../config/env.ts";
import { loadConfig } from "../../config/load.ts";
import type { ServiceSource, SourceLoad } from "./source.ts";

export function fileSource(mainFile: string, options: { env?: Environment } = {}): ServiceSource {
  return {
    name: "files",
    load(): SourceLoad {
      const loaded = loadConfig(mainFile, options.env ? { env: options.env } : {});
      if (!loaded.ok) return loaded;
      const { config } = loaded;
      return { ok: true, services: config.services, files: config.files, main: config.main, mainFile: config.mainFile };
    },
  };
}
