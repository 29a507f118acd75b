/**
 * The daemon's managed VIPs include every Kubernetes pool address: a virtual service left on a free pool address
 * (by an earlier run whose record is gone) is removed, one on another address is left alone, and the record in
 * state_dir lists the pool. Against the in-memory kernel, with the service files as the only source.
 */

import { expect, test } from "bun:test";
import { stringify } from "yaml";
import { Controller } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { configTree } from "../support/config-tree.ts";
import { FakeKernel, foreignService } from "../support/fake-ipvs.ts";
import { BASE_MAIN, BASE_SERVICE } from "../support/load-helpers.ts";

test("pool addresses are owned: stale rules on them go, others stay, and the record lists the pool", () => {
  const tree = configTree();
  tree.write(
    "config.yaml",
    stringify({ ...BASE_MAIN, system: { state_dir: tree.path("state") }, kubernetes: { enabled: true, kubeconfig: "/dev/null", pools: [{ name: "default", addresses: ["192.0.2.128/30"] }] } }),
  );
  tree.write("config.d/s.yaml", stringify({ services: [BASE_SERVICE] }));
  const kernel = new FakeKernel();
  kernel.addForeign(foreignService("192.0.2.130", 80));
  kernel.addForeign(foreignService("192.0.2.200", 80));
  let recorded: string[] = [];
  try {
    const controller = Controller.start({
      sources: [fileSource(tree.main, { env: {} })],
      ipvs: kernel,
      addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
      health: { sync: () => {}, state: () => undefined, stateAfterSync: () => "unknown" },
      events: new RecordingSink(),
      vipRecord: { read: () => [], write: (_dir, vips) => void (recorded = [...vips].sort()) },
      now: () => 0,
    });
    const services = kernel.rules().filter((line) => line.startsWith("-A"));
    expect(services).toEqual(["-A tcp:192.0.2.10:80 -s wlc", "-A tcp:192.0.2.200:80 -s rr"]);
    expect(recorded).toEqual(["192.0.2.10", "192.0.2.128", "192.0.2.129", "192.0.2.130", "192.0.2.131"]);
    expect([...controller.managedVips].sort()).toEqual(recorded);
  } finally {
    tree.remove();
  }
});
