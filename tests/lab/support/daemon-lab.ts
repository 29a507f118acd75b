/**
 * What lab tests of the real daemon share: per test, a config folder, a lab network and a daemon, all released
 * after the test (daemon killed, namespaces removed, folder deleted, IPVS table cleared).
 */

import { afterEach, beforeAll } from "bun:test";
import { stringify } from "yaml";
import { configTree, type ConfigTree } from "../../support/config-tree.ts";
import { ipvsadmClear } from "./ipvsadm.ts";
import { requireLab } from "./guard.ts";
import type { RunningDaemon } from "./lbctl-daemon.ts";
import type { LabNetwork } from "./netns.ts";

export interface DaemonLab {
  tree: ConfigTree | undefined;
  network: LabNetwork | undefined;
  daemon: RunningDaemon | undefined;
}

/** Registers the lab guard and the per-test release; tests assign the fields. */
export function daemonLab(): DaemonLab {
  const lab: DaemonLab = { tree: undefined, network: undefined, daemon: undefined };
  beforeAll(() => {
    requireLab();
    ipvsadmClear();
  });
  afterEach(async () => {
    if (lab.daemon && lab.daemon.process.exitCode === null) await lab.daemon.stop("SIGKILL");
    lab.daemon = undefined;
    lab.network?.destroy();
    lab.network = undefined;
    lab.tree?.remove();
    lab.tree = undefined;
    ipvsadmClear();
  });
  return lab;
}

/** The daemon's control socket, inside the test's config folder. */
export function labSocket(lab: DaemonLab): string {
  lab.tree ??= configTree();
  return lab.tree.path("lbctl.sock");
}

/**
 * Writes config.yaml (`main`, with the state folder and control socket inside the test's folder) and one service
 * file holding `services`.
 */
export function writeDaemonConfig(lab: DaemonLab, main: Record<string, unknown>, services: unknown[], file = "config.d/services.yaml"): ConfigTree {
  lab.tree ??= configTree();
  const tree = lab.tree;
  const daemon = (main.daemon ?? {}) as Record<string, unknown>;
  tree.write("config.yaml", stringify({ ...main, system: { state_dir: tree.path("state") }, daemon: { ...daemon, socket: labSocket(lab) } }));
  tree.write(file, stringify({ services }));
  return tree;
}
