/**
 * The files of dist/ that a host needs (and the man page generated there), embedded in the binary at build time (text imports are bundled by
 * `bun build --compile`), and written by `lbctl setup files [--root DIR]`: a host needs nothing but the binary.
 * Config files are written only when absent; lbctl's own files (the unit, the examples) are replaced when they differ.
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import exampleConfig from "../../dist/config.yaml.example" with { type: "text" };
import exampleService from "../../dist/config.d/example-service.yaml" with { type: "text" };
import systemdUnit from "../../dist/lbctl.service" with { type: "text" };
import modulesLoad from "../../dist/modules-load.d-lbctl.conf" with { type: "text" };
// Generated from docs/cli.md by build.ts (src/system/man-page.ts).
import manPage from "../../dist/lbctl.8" with { type: "text" };
import { writeFileAtomic } from "./atomic-file.ts";

export type ShippedPolicy = "if-absent" | "replace";

export interface ShippedFile {
  /** Absolute path on the host. */
  path: string;
  text: string;
  mode: number;
  policy: ShippedPolicy;
  what: string;
}

export const SHIPPED_FILES: readonly ShippedFile[] = [
  { path: "/etc/systemd/system/lbctl.service", text: systemdUnit, mode: 0o644, policy: "replace", what: "systemd unit" },
  { path: "/usr/local/share/man/man8/lbctl.8", text: manPage, mode: 0o644, policy: "replace", what: "man page lbctl(8)" },
  // `lbctl setup sysctl` owns this file's updates (it lists the schedulers of the config).
  { path: "/etc/modules-load.d/lbctl.conf", text: modulesLoad, mode: 0o644, policy: "if-absent", what: "kernel modules loaded at boot" },
  { path: "/etc/lbctl/config.yaml", text: exampleConfig, mode: 0o640, policy: "if-absent", what: "main config (from the example)" },
  { path: "/etc/lbctl/examples/config.yaml", text: exampleConfig, mode: 0o644, policy: "replace", what: "example main config" },
  { path: "/etc/lbctl/examples/example-service.yaml", text: exampleService as unknown as string, mode: 0o644, policy: "replace", what: "example service file" },
];

/** Folders created (never removed): the service files' folder. */
export const SHIPPED_DIRS: readonly string[] = ["/etc/lbctl/config.d"];

export type ShippedAction = "created" | "updated" | "unchanged" | "kept";

export interface ShippedOutcome {
  path: string;
  action: ShippedAction;
  what: string;
}

/** What writing would do to each file, without writing (pure given `read`). */
export function planShippedFiles(root: string, read: (path: string) => string | undefined): ShippedOutcome[] {
  return SHIPPED_FILES.map((file) => {
    const path = join(root, file.path);
    const current = read(path);
    const action: ShippedAction =
      current === undefined ? "created" : current === file.text ? "unchanged" : file.policy === "if-absent" ? "kept" : "updated";
    return { path, action, what: file.what };
  });
}

export function writeShippedFiles(root: string, options: { dryRun?: boolean } = {}): ShippedOutcome[] {
  const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);
  const plan = planShippedFiles(root, read);
  if (options.dryRun) return plan;
  for (const dir of SHIPPED_DIRS) mkdirSync(join(root, dir), { recursive: true, mode: 0o755 });
  plan.forEach((outcome, index) => {
    if (outcome.action !== "created" && outcome.action !== "updated") return;
    const file = SHIPPED_FILES[index]!;
    mkdirSync(dirname(outcome.path), { recursive: true, mode: 0o755 });
    writeFileAtomic(outcome.path, file.text, { mode: file.mode });
  });
  return plan;
}
