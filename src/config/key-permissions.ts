/**
 * The one control-plane rule that needs the disk: a private key readable by group or other is an error (a leaked
 * key lets anyone impersonate this node to its peers). A key that does not exist yet is left to the daemon's start
 * and `lbctl doctor`, so configs can be validated away from the hosts that hold the keys.
 */

import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { YamlSource } from "./document.ts";
import type { ConfigIssue } from "./errors.ts";
import type { MainFile } from "./schema/main.ts";

/** TLS paths are absolute, or relative to the main file's folder. */
export function controlPlanePath(mainFile: string, path: string): string {
  return resolve(dirname(resolve(mainFile)), path);
}

export function keyPermissionIssues(mainSource: YamlSource, main: MainFile): ConfigIssue[] {
  const { enabled, tls } = main.control_plane;
  if (!enabled || tls.key.trim() === "") return [];
  let mode: number;
  try {
    mode = statSync(controlPlanePath(mainSource.file, tls.key)).mode;
  } catch {
    return [];
  }
  if ((mode & 0o077) === 0) return [];
  const path = "control_plane.tls.key";
  return [
    {
      file: mainSource.file,
      ...mainSource.locate(path),
      path,
      message: `${tls.key} has mode ${(mode & 0o777).toString(8).padStart(4, "0")}: a private key must not be readable or writable by group or other (chmod 600 ${tls.key})`,
    },
  ];
}
