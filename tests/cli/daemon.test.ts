/**
 * `lbctl daemon` (and `apply --daemon`) check the config before anything else: a missing file exits 2 and an invalid
 * config 1, with every error located, and neither touches IPVS (the order itself is tested in tests/daemon/).
 */

import { expect, test } from "bun:test";
import { runLbctl } from "../support/run-lbctl.ts";
import { configTree } from "../support/config-tree.ts";

test("a missing config file exits 2 before IPVS is opened", async () => {
  for (const command of [["daemon"], ["apply", "--daemon"]]) {
    const run = await runLbctl([...command, "--config", "/nonexistent/config.yaml"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("/nonexistent/config.yaml: the file does not exist");
    expect(run.stderr).not.toMatch(/IPVS|netlink|libnl/i);
  }
});

test("an invalid config exits 1 with each error located by file, line and key, before IPVS is opened", async () => {
  const tree = configTree({ services: { "web.yaml": "services:\n  - name: web\n    ports: [80]\n    scheduler: bogus\n    backends: [{ address: 10.0.0.1 }]\n" } });
  try {
    const run = await runLbctl(["daemon", "--config", tree.main]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${tree.path("config.d/web.yaml")}:4:16: services[0].scheduler:`);
    expect(run.stderr).not.toMatch(/IPVS|netlink|libnl/i);
  } finally {
    tree.remove();
  }
});
