/**
 * The table read beside the config load (src/cli/_table-prefetch.ts, src/ipvs/table-reader-worker.ts) as a user's
 * `lbctl apply` starts it: the worker thread loads (from the binary's embedded files under LBCTL_BIN, from source
 * otherwise) and reports either the table or the kernel's reason for none, after which apply reads the table itself
 * and fails the way it always has. The table it reads, and the plan made from it, are checked against a real kernel
 * in tests/lab/apply.test.ts.
 */

import { afterEach, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { stringify } from "yaml";
import { tableOfReply } from "../../src/ipvs/table-reader-reply.ts";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

test("apply starts the table reader before the config load, and it runs (a table, or the kernel's reason for none)", async () => {
  tree = configTree();
  tree.write("config.yaml", stringify({ node: { name: "t" }, network: { frontend: { vip: "192.0.2.10" } }, system: { state_dir: tree.path("state") }, daemon: { socket: tree.path("lbctl.sock") } }));
  tree.write("config.d/web.yaml", stringify({ services: [{ name: "web", ports: [80], backends: [{ address: "10.0.0.1" }] }] }));
  const run = await runLbctl(["apply", "--dry-run", "--debug", "--config", tree.main]);
  const output = run.stdout + run.stderr; // debug lines go to stdout, the failure to stderr
  if (availableParallelism() < 2) {
    expect(output).toContain("Config loaded in");
    expect(output).not.toContain("beside the config load");
    return;
  }
  // Either the worker read the table (a host with IPVS), or it reached the kernel and reports why not, never a
  // worker that failed to load or start.
  const read = /Phase read took [\d.]+ ms \(read beside the config load in [\d.]+ ms: \d+ services\)/.test(output);
  const reason = /The table was not read beside the config load \(([^\n]*)\): reading it now/.exec(output);
  expect(read || reason !== null).toBe(true);
  if (reason) {
    expect(reason[1]).not.toMatch(/table reader|ModuleNotFound|cancelled/);
    expect(reason[1]).toMatch(/IPVS|ip_vs|netlink|libnl/i);
  }
});

test("a reply is a table only when it is one: anything else is a reason, and apply reads the table itself", () => {
  const table = [{ service: { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, destinations: [] }];
  expect(tableOfReply({ kind: "table", json: JSON.stringify(table), readMs: 12.5 })).toEqual({ entries: table as never, readMs: 12.5 });
  expect(tableOfReply({ kind: "error", message: "no IPVS" })).toEqual({ error: "no IPVS" });
  expect(tableOfReply(null)).toEqual({ error: "the table reader posted no reply object" });
  expect(tableOfReply({ kind: "table", json: 42, readMs: 1 })).toEqual({ error: "the table reader posted a malformed reply" });
  expect(tableOfReply({ kind: "table", json: "{}", readMs: 1 })).toEqual({ error: "the table reader posted a table that is not a list" });
  expect(() => tableOfReply({ kind: "table", json: "[", readMs: 1 })).toThrow();
});
