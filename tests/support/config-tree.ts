/** Temporary config trees for tests: a main file plus service files in config.d/. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const MINIMAL_MAIN = `node: { name: lb-a }
network:
  frontend:
    vip: 192.0.2.10
`;

export interface ConfigTree {
  dir: string;
  main: string;
  /** Absolute path of a file in the tree. */
  path(relative: string): string;
  write(relative: string, text: string): string;
  remove(): void;
}

export function configTree(files: { main?: string; services?: Record<string, string> } = {}): ConfigTree {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-test-"));
  const tree: ConfigTree = {
    dir,
    main: join(dir, "config.yaml"),
    path: (relative) => join(dir, relative),
    write(relative, text) {
      const path = join(dir, relative);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  tree.write("config.yaml", files.main ?? MINIMAL_MAIN);
  mkdirSync(join(dir, "config.d"), { recursive: true });
  for (const [name, text] of Object.entries(files.services ?? {})) tree.write(join("config.d", name), text);
  return tree;
}

/** A service file with one service; `extra` lines are indented into the service mapping. */
export function oneService(extra: string, name = "web"): string {
  const body = extra
    .trim()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  return `services:\n  - name: ${name}\n${body}\n`;
}
