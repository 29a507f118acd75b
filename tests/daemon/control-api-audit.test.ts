/**
 * The control API's audit bodies: POST /v1/reload with who commits (lbctl shell/edit) makes the real reload, not the
 * dry run, write `config_committed` with its result (a refused one too); POST /v1/audit/lock-break writes
 * `config_lock_broken`; bodies that are not what they claim are refused before anything happens. The handler runs
 * against a target that records what it is asked (tests/shell/audit.test.ts covers a real daemon).
 */

import { describe, expect, test } from "bun:test";
import { controlHandler, type ControlTarget } from "../../src/daemon/control-api.ts";
import type { ReloadOptions, ReloadResult } from "../../src/daemon/controller.ts";
import { auditRecords } from "../../src/observability/audit.ts";
import type { OperatorEvent } from "../../src/observability/events.ts";

function target(result: ReloadResult) {
  const reloads: ReloadOptions[] = [];
  const recorded: OperatorEvent[] = [];
  const t: ControlTarget = {
    pid: 1,
    configFile: "/etc/lbctl/config.yaml",
    status: () => ({}) as never,
    backends: () => ({}) as never,
    setOverride: () => ({}) as never,
    reload: (options) => {
      reloads.push(options);
      return options.dryRun ? { result: "planned", changes: [] } : result;
    },
    record: (event) => recorded.push(event),
  };
  return { handler: controlHandler(() => t), reloads, recorded };
}

const BY = { user: "alice", login_uid: 1000, sudo_user: "alice" };
const post = (path: string, body?: unknown) =>
  new Request(`http://lbctl${path}`, { method: "POST", ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) });

describe("POST /v1/reload with a commit's body", () => {
  test("the real reload is recorded with who, where from, the files and the result; the dry run is not", async () => {
    const { handler, reloads, recorded } = target({ result: "success", changes: [], hash: "h", draining: [] });
    const body = { by: BY, origin: "edit", files: ["/etc/lbctl/config.d/web.yaml"] };
    expect((await handler(post("/v1/reload?dry_run=1", body))).status).toBe(200);
    expect(recorded).toEqual([]);
    expect((await handler(post("/v1/reload", body))).status).toBe(200);
    expect(reloads).toEqual([{ dryRun: true, force: false }, { dryRun: false, force: false }]);
    expect(recorded).toEqual([{ type: "config-committed", by: BY, origin: "edit", files: ["/etc/lbctl/config.d/web.yaml"], result: "success" }]);
    expect(auditRecords(recorded[0]!)).toEqual([
      {
        event: "config_committed",
        level: "info",
        message: "Config committed with lbctl edit",
        fields: { origin: "edit", user: "alice", login_uid: 1000, sudo_user: "alice", files: "/etc/lbctl/config.d/web.yaml", result: "success" },
      },
    ]);
  });

  test("a reload the daemon refuses is recorded as refused, with its reason", async () => {
    const limit = { name: "max_services_deleted", limit: 0, planned: 1 };
    const { handler, recorded } = target({ result: "refused", message: "over the limit", changes: [], limit });
    const reply = await handler(post("/v1/reload", { by: { user: "bob" }, origin: "shell", files: [] }));
    expect(((await reply.json()) as { result: string }).result).toBe("refused");
    expect(recorded).toEqual([{ type: "config-committed", by: { user: "bob" }, origin: "shell", files: [], result: "refused", message: "over the limit" }]);
    expect(auditRecords(recorded[0]!)[0]).toMatchObject({ level: "warn", message: "Config commit of lbctl shell not applied: over the limit", fields: { result: "refused", files: undefined } });
  });

  test("no body is a reload as before; a bad body is refused before any reload", async () => {
    const { handler, reloads, recorded } = target({ result: "success", changes: [], hash: "h", draining: [] });
    expect((await handler(post("/v1/reload"))).status).toBe(200);
    expect(reloads).toHaveLength(1);
    expect(recorded).toEqual([]);
    const bad: [unknown, string][] = [
      ["{", "the request body is not JSON"],
      [[], "the request must be a JSON object"],
      [{ origin: "shell" }, "by.user must name who asks"],
      [{ by: BY, origin: "cron" }, 'origin must be "shell" or "edit"'],
      [{ by: { user: "a", login_uid: -1 }, origin: "shell" }, "by.login_uid must be a uid"],
      [{ by: BY, origin: "shell", files: "web.yaml" }, "files must be a list of at most 1024 paths"],
      [{ by: BY, origin: "shell", files: Array.from({ length: 1025 }, (_, i) => `/f${i}`) }, "files must be a list of at most 1024 paths"],
    ];
    for (const [body, error] of bad) {
      const reply = await handler(post("/v1/reload", body));
      expect(reply.status).toBe(400);
      expect(((await reply.json()) as { error: string }).error).toBe(error);
    }
    const huge = await handler(post("/v1/reload", { by: BY, origin: "shell", files: ["x".repeat(70_000)] }));
    expect(huge.status).toBe(413);
    expect(reloads).toHaveLength(1);
  });
});

describe("POST /v1/audit/lock-break", () => {
  test("records who broke whose lock; refuses a body that names no holder", async () => {
    const { handler, recorded, reloads } = target({ result: "success", changes: [], hash: "h", draining: [] });
    const holder = { user: "alice", host: "lb-b", pid: 4242, since: "2026-12-03T09:00:00.000Z", tool: "shell" };
    const reply = await handler(post("/v1/audit/lock-break", { by: { user: "carol" }, holder }));
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ result: "recorded" });
    expect(recorded).toEqual([{ type: "config-lock-broken", by: { user: "carol" }, holder }]);
    expect(auditRecords(recorded[0]!)[0]!.fields).toEqual({
      user: "carol",
      login_uid: undefined,
      sudo_user: undefined,
      holder_user: "alice",
      holder_host: "lb-b",
      holder_pid: 4242,
      holder_since: "2026-12-03T09:00:00.000Z",
      holder_tool: "shell",
    });
    for (const [body, error] of [
      [{ by: { user: "carol" } }, "holder must name the lock's holder"],
      [{ by: { user: "carol" }, holder: { ...holder, pid: "4242" } }, "holder.pid must be a pid"],
      [{ holder }, "by.user must name who asks"],
    ] as const) {
      const bad = await handler(post("/v1/audit/lock-break", body));
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe(error);
    }
    expect((await handler(new Request("http://lbctl/v1/audit/lock-break"))).status).toBe(405);
    expect(recorded).toHaveLength(1);
    expect(reloads).toEqual([]);
  });
});
