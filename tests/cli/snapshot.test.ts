/**
 * `lbctl snapshot list|show` and the errors of every snapshot command, as a user runs them (no kernel needed: they
 * read state_dir). Saving and restoring against a real kernel: tests/lab/drain.test.ts.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { takeSnapshot } from "../../src/plan/snapshot.ts";
import { writeSnapshot } from "../../src/system/snapshots.ts";
import { configTree, MINIMAL_MAIN, type ConfigTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { runLbctl } from "../support/run-lbctl.ts";

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function withSnapshots(): { tree: ConfigTree; state: string; ids: string[] } {
  tree = configTree();
  const state = tree.path("state");
  tree.write("config.yaml", `${MINIMAL_MAIN}system: { state_dir: ${state} }\n`);
  const kernel = new FakeKernel();
  kernel.execute([
    { kind: "new-service", service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80, scheduler: "wrr", flags: 1, timeout: 60, netmask: 0xffffffff, persistenceEngine: "" } },
    {
      kind: "new-destination",
      service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 },
      destination: { family: 4, address: "10.0.0.1", port: 8080, forward: "dr", weight: 3, upperThreshold: 0, lowerThreshold: 0 },
    },
  ]);
  const ids = ["20261203T100000.000Z-manual", "20261203T100500.000Z-apply"];
  ids.forEach((id, i) => {
    const snapshot = takeSnapshot(kernel.dump(), new Set(["192.0.2.10"]), { id, createdAt: new Date(Date.UTC(2026, 11, 3, 10, i * 5)), reason: i ? "apply" : "manual", node: "lb-a" });
    writeSnapshot(state, id, JSON.stringify(snapshot), 20);
  });
  return { tree, state, ids };
}

describe("lbctl snapshot", () => {
  test("list (oldest first) and show (ipvsadm-style, or the file's JSON; latest names the newest)", async () => {
    const { tree, ids } = withSnapshots();
    const list = await runLbctl(["snapshot", "list", "--json", "--config", tree.main]);
    expect(list.exitCode).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      snapshots: [
        { id: ids[0], created_at: "2026-12-03T10:00:00.000Z", reason: "manual", node: "lb-a", services: 1, destinations: 1 },
        { id: ids[1], created_at: "2026-12-03T10:05:00.000Z", reason: "apply", node: "lb-a", services: 1, destinations: 1 },
      ],
    });
    const text = await runLbctl(["snapshot", "show", "latest", "--config", tree.main]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout.split("\n").slice(1, 3)).toEqual(["-A -t 192.0.2.10:80 -s wrr -p 60", "-a -t 192.0.2.10:80 -r 10.0.0.1:8080 -g -w 3"]);
    const json = await runLbctl(["snapshot", "show", ids[0]!, "--json", "--config", tree.main]);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: ids[0], services: [{ service: "tcp:192.0.2.10:80", destinations: [{ destination: "10.0.0.1:8080", forward: "dr" }] }] });
  });

  test("a missing id, a path for an id, a corrupt file: exit 1 naming it; a missing id argument: usage (2)", async () => {
    const { tree, state } = withSnapshots();
    const missing = await runLbctl(["snapshot", "show", "20990101T000000.000Z-manual", "--config", tree.main]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("No snapshot 20990101T000000.000Z-manual");
    const traversal = await runLbctl(["snapshot", "restore", "../../etc/passwd", "--dry-run", "--config", tree.main]);
    expect(traversal.exitCode).toBe(1);
    expect(traversal.stderr).toContain("is not a snapshot id");
    tree.write("state/snapshots/20261203T110000.000Z-manual.json", '{"version": 1, "services": [{"weight": "x"}]}');
    const corrupt = await runLbctl(["snapshot", "show", "latest", "--config", tree.main]);
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stderr).toContain(`${state}/snapshots/20261203T110000.000Z-manual.json: reason must be a string`);
    const usage = await runLbctl(["snapshot", "show", "--config", tree.main]);
    expect(usage.exitCode).toBe(2);
  });

  test("--json prints one object with an error when the command fails, with the command's exit code", async () => {
    const { tree } = withSnapshots();
    const missingConfig = tree.path("nonexistent.yaml");
    const cases: Array<[args: string[], shape: object, op: string]> = [
      [["save"], { id: null }, "read-kernel"],
      [["list"], { snapshots: [] }, "read-snapshots"],
      [["show", "latest"], {}, "read-snapshot"],
      [["restore", "latest", "--dry-run"], { changes: [], applied: false }, "restore"],
    ];
    for (const [args, shape] of cases) {
      const unloadable = await runLbctl(["snapshot", ...args, "--json", "--config", missingConfig]);
      expect(JSON.parse(unloadable.stdout)).toEqual({ ...shape, error: { op: "load-config", message: `${missingConfig}: the file does not exist` } });
      expect(unloadable.exitCode).toBe(2);
    }
    // A snapshot id that is not there: show and restore fail after loading the config, each in its own words.
    for (const [args, shape, op] of cases.slice(2)) {
      const missing = await runLbctl(["snapshot", ...args.map((a) => (a === "latest" ? "20990101T000000.000Z-manual" : a)), "--json", "--config", tree.main]);
      expect(JSON.parse(missing.stdout)).toEqual({ ...shape, error: { op, message: expect.stringContaining("No snapshot 20990101T000000.000Z-manual") } });
      expect(missing.exitCode).toBe(1);
    }
    // save needs the kernel; where there is none (this host, usually), its failure is an object too.
    const save = await runLbctl(["snapshot", "save", "--json", "--config", tree.main]);
    const body = JSON.parse(save.stdout);
    if (save.exitCode === 0) expect(body.id).toMatch(/-manual$/);
    else expect(body).toEqual({ id: null, error: { op: "read-kernel", message: expect.stringContaining("IPVS") } });
  });

  test("apply --drain does not combine with --daemon", async () => {
    tree = configTree();
    const run = await runLbctl(["apply", "--daemon", "--drain", "--config", tree.main]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--drain");
  });
});
