/**
 * What lab tests of the real daemon share: per test, a config folder, a lab network, a daemon and a network
 * namespace of its own that directs (IPVS keeps one table per namespace), all released after the test (daemon
 * killed, namespaces removed, folder deleted). No test shares the guest's root table.
 */

import { afterEach, beforeAll, beforeEach } from "bun:test";
import { stringify } from "yaml";
import { configTree, type ConfigTree } from "../../support/config-tree.ts";
import { requireLab } from "./guard.ts";
import { IpvsNamespace } from "./ipvs-namespace.ts";
import { type RunningDaemon, startDaemon } from "./lbctl-daemon.ts";
import type { LabNetwork } from "./netns.ts";

export interface DaemonLab {
  tree: ConfigTree | undefined;
  network: LabNetwork | undefined;
  daemon: RunningDaemon | undefined;
  /** The test's namespace, created before it; run lbctl, ipvsadm and the daemon in it. */
  namespace: IpvsNamespace | undefined;
}

export interface DaemonLabOptions {
  /**
   * Every test gets a network namespace of its own (`lab.namespace`), with its own IPVS table, as the director of
   * its networks. Always so: the option only says it where a test file is read.
   */
  ownNamespace: true;
}

/** Registers the lab guard and the per-test release; tests assign the fields. */
export function daemonLab(_options: DaemonLabOptions): DaemonLab {
  const lab: DaemonLab = { tree: undefined, network: undefined, daemon: undefined, namespace: undefined };
  beforeAll(() => {
    requireLab();
  });
  beforeEach(() => {
    lab.namespace = IpvsNamespace.create();
  });
  afterEach(async () => {
    if (lab.daemon && lab.daemon.process.exitCode === null) await lab.daemon.stop("SIGKILL");
    lab.daemon = undefined;
    lab.network?.destroy();
    lab.network = undefined;
    lab.tree?.remove();
    lab.tree = undefined;
    lab.namespace?.destroy();
    lab.namespace = undefined;
  });
  return lab;
}

/** The test's namespace; throws outside a test. */
export function labNamespace(lab: DaemonLab): IpvsNamespace {
  if (!lab.namespace) throw new Error("No test namespace: labNamespace() is only valid inside a test");
  return lab.namespace;
}

/** Starts the daemon on the test's config, in the test's namespace. */
export function startLabDaemon(lab: DaemonLab): Promise<RunningDaemon> {
  if (!lab.tree) throw new Error("Write the config first (writeDaemonConfig)");
  return startDaemon(lab.tree.main, labSocket(lab), { namespace: lab.namespace });
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
