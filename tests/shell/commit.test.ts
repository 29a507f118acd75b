/**
 * commit against a running daemon (the test-only memory kernel, LBCTL_TEST_MEMORY_KERNEL=1): the plan comes from the
 * daemon's dry run, the files are written where the services live, the daemon reloads; a reload the daemon refuses
 * (a change limit) puts every file back. Secondaries refuse configure and edit.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { runLbctl } from "../support/run-lbctl.ts";
import { Daemon, DNS, shellTree, WEB, type ShellTree } from "./support/fixture.ts";

let tree: ShellTree | undefined;
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  tree?.remove();
  daemon = tree = undefined;
});

describe("commit through the daemon", () => {
  test("the daemon's plan, each change in its own file, the reload reaching the (memory) kernel", async () => {
    tree = shellTree();
    daemon = new Daemon(tree);
    await daemon.start();
    expect(await daemon.destinations()).toEqual(["tcp:192.0.2.10:80 10.0.0.1:80 1", "udp:192.0.2.10:53 10.0.0.9:53 1"]);
    const script = "configure\nservice web\nbackend 10.0.0.2 weight 3\nexit\ndelete dns\nshow\ncommit\nexit\nexit\n";
    const run = await runLbctl(["shell", "--config", tree.main], {}, script);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Plan (from the daemon's dry run):\n  create-destination tcp:192.0.2.10:80 10.0.0.2:80 (web)\n  delete-service udp:192.0.2.10:53\n");
    expect(run.stdout).toContain(`Writing ${tree.path("config.d/web.yaml")}\nRemoving ${tree.path("config.d/dns.yaml")}`);
    expect(run.stdout).toContain("Committed: the daemon runs the new config (2 kernel changes).");
    expect(await daemon.destinations()).toEqual(["tcp:192.0.2.10:80 10.0.0.1:80 1", "tcp:192.0.2.10:80 10.0.0.2:80 3"]);
    // One file per service, no duplicate, the comment kept.
    expect(readdirSync(tree.path("config.d"))).toEqual(["web.yaml"]);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toStartWith("# the web tier (this comment must survive commits)\n");
    // Root mode's `show status` prints what lbctl status prints.
    const shown = await runLbctl(["shell", "--config", tree.main], {}, "show status\n");
    const status = await runLbctl(["status", "--config", tree.main]);
    expect(shown.stdout).toBe(status.stdout);
    expect(status.stdout).toContain("10.0.0.2:80");
  }, 60_000);

  test("a reload the daemon refuses (change limit) restores every file; the daemon keeps the old config", async () => {
    tree = shellTree();
    // Deleting one service is over this limit.
    writeFileSync(tree.main, readFileSync(tree.main, "utf8").replace(/daemon: \{ ([^}]*) \}/, "daemon: { $1, change_limits: { max_services_deleted: 0 } }"));
    daemon = new Daemon(tree);
    await daemon.start();
    const before = await daemon.destinations();
    const run = await runLbctl(["shell", "--config", tree.main], {}, "configure\ndelete dns\nservice web\nbackend 10.0.0.7\nexit\ncommit\n");
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("delete-service udp:192.0.2.10:53");
    expect(run.stderr).toContain("line 6: Commit refused by the daemon, which keeps running the old config:");
    expect(run.stderr).toContain("max_services_deleted");
    expect(run.stderr).toContain("Every file is restored as it was.");
    expect(readFileSync(tree.path("config.d/dns.yaml"), "utf8")).toBe(DNS);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB);
    expect(await daemon.destinations()).toEqual(before!);
  }, 60_000);
});

describe("control-plane secondary", () => {
  test("configure, commit and lbctl edit refuse with the reason", async () => {
    tree = shellTree("control_plane: { enabled: true, mode: secondary, primary_address: 127.0.0.1:8443, tls: { cert: /nonexistent/c.crt, key: /nonexistent/c.key, ca: /nonexistent/ca.crt } }\n");
    const valid = await runLbctl(["validate", "--config", tree.main]);
    expect(valid.exitCode).toBe(0);
    const run = await runLbctl(["shell", "--config", tree.main], {}, "show services\nconfigure\n");
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("web  tcp");
    expect(run.stderr).toContain("line 2: error: configure refused: this node is a control-plane secondary (control_plane.mode: secondary in");
    expect(run.stderr).toContain("its service files come from the primary and would be overwritten");
    const edit = await runLbctl(["edit", "web", "--config", tree.main], { EDITOR: "false" });
    expect(edit.exitCode).toBe(1);
    expect(edit.stderr).toContain("lbctl edit refused: this node is a control-plane secondary");
  });
});
