/**
 * Output that scripts read is complete: every command that prints a lot (validate --json, schema, status --json,
 * apply --json through a daemon, a long error list on stderr) delivers all of it through a pipe whose reader is
 * slow, and a JSON command prints one parseable object also when it fails. The kernel's own apply path is covered
 * in tests/lab/cli-output.test.ts; here the daemon's control socket stands in for the kernel (this host has none).
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import { planChanges } from "../../src/plan/diff.ts";
import { changeToJson } from "../../src/plan/render.ts";
import { statusView } from "../../src/plan/status.ts";
import { lbctlCommandLine, runLbctl } from "../support/run-lbctl.ts";
import { runThroughSlowReader, validService, writeManyServices } from "./support/slow-pipe.ts";

const SERVICES = 3000;
const PIPE_BUFFER = 64 * 1024;
/** Each run waits for a reader that pauses 1.5 s; a loaded 2-core machine needs the rest. */
const SLOW_MS = 60_000;

setDefaultTimeout(SLOW_MS);

let dir: string;
let valid: string;
let invalid: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lbctl-output-"));
  const socket = join(dir, "lbctl.sock");
  const main = (name: string) => `node: { name: ${name} }\nnetwork:\n  frontend:\n    vip: 192.0.2.10\nsystem:\n  state_dir: ${join(dir, "state")}\ndaemon:\n  socket: ${socket}\n`;
  valid = writeManyServices(join(dir, "valid"), SERVICES);
  writeFileSync(valid, main("lb-a"));
  // One file of services that each name an unknown scheduler: one error line each, far more than a pipe holds.
  invalid = join(dir, "invalid", "config.yaml");
  const bad = Array.from({ length: SERVICES }, (_, i) => validService(i).replace("services:\n", "").replace("    backends:", "    scheduler: fastest\n    backends:"));
  writeManyServices(join(dir, "invalid"), 1, () => `services:\n${bad.join("")}`);
  writeFileSync(invalid, main("lb-a"));
}, SLOW_MS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("large output through a slow pipe", () => {
  test("validate --json: the whole object of 3,000 service files", async () => {
    const run = await runThroughSlowReader(["validate", "--json", "--config", valid], "stdout");
    expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
    const report = JSON.parse(run.text);
    expect(report).toMatchObject({ valid: true, services: SERVICES, virtual_services: SERVICES, destinations: SERVICES });
    expect(report.files).toHaveLength(SERVICES + 1);
    expect(run.exitCode).toBe(0);
  });

  test("validate --json of an invalid config: every error, exit 1", async () => {
    const run = await runThroughSlowReader(["validate", "--json", "--config", invalid], "stdout");
    expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
    const report = JSON.parse(run.text);
    expect(report.valid).toBe(false);
    expect(report.errors).toHaveLength(SERVICES);
    expect(run.exitCode).toBe(1);
  });

  test("a long error list on stderr keeps its last line, the summary", async () => {
    const run = await runThroughSlowReader(["validate", "--config", invalid], "stderr");
    expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
    const lines = run.text.trimEnd().split("\n");
    expect(lines.filter((line) => line.includes(".scheduler: must be one of"))).toHaveLength(SERVICES);
    expect(lines.at(-1)).toBe(`[error] ${invalid}: invalid (${SERVICES} errors)`);
    expect(run.exitCode).toBe(1);
  });

  test("into a file and onto a terminal too: the whole object, exit 0", async () => {
    const file = join(dir, "validate.json");
    const toFile = Bun.spawnSync(["bash", "-c", `"$@" > ${file}`, "bash", ...lbctlCommandLine(), "validate", "--json", "--config", valid]);
    expect(toFile.exitCode).toBe(0);
    expect(JSON.parse(await Bun.file(file).text()).files).toHaveLength(SERVICES + 1);
    // script(1) (util-linux) runs lbctl on a pseudo-terminal and copies what it printed.
    const typescript = join(dir, "typescript");
    const command = [...lbctlCommandLine(), "validate", "--json", "--config", valid].map((word) => `'${word}'`).join(" ");
    const onTerminal = Bun.spawnSync(["script", "-qec", command, typescript], { stdout: "ignore", stderr: "pipe" });
    expect(onTerminal.exitCode).toBe(0);
    const printed = (await Bun.file(typescript).text()).replaceAll("\r\n", "\n");
    const json = printed.slice(printed.indexOf("{"), printed.lastIndexOf("}") + 1);
    expect(JSON.parse(json).files).toHaveLength(SERVICES + 1);
  });

  test("schema main and service: whole JSON documents", async () => {
    for (const kind of ["main", "service"]) {
      const run = await runThroughSlowReader(["schema", kind], "stdout");
      expect(JSON.parse(run.text).$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(run.exitCode).toBe(0);
    }
  });

  describe("with a daemon answering on the control socket", () => {
    let server: ReturnType<typeof Bun.serve> | undefined;
    const requests: string[] = [];

    beforeAll(() => {
      const loaded = loadConfig(valid);
      if (!loaded.ok) throw new Error(`the generated config is invalid: ${loaded.issues[0]?.message}`);
      const desired = desiredServices(loaded.config);
      const isManagedVip = () => true;
      // What a daemon with an empty kernel answers: every service missing, and a plan that creates them all.
      const status = statusView(desired, [], { daemon: true, stats: false, isManagedVip, health: () => "unknown" });
      const changes = planChanges(desired, [], { isManagedVip }).changes.map(changeToJson);
      server = Bun.serve({
        unix: loaded.config.main.daemon.socket,
        fetch(request) {
          const url = new URL(request.url);
          requests.push(`${request.method} ${url.pathname}${url.search}`);
          if (url.pathname === "/v1/health") return Response.json({ ok: true, pid: process.pid, config: valid });
          if (url.pathname === "/v1/status") return Response.json(status);
          if (url.pathname === "/v1/reload") return Response.json({ result: url.searchParams.get("dry_run") ? "planned" : "success", changes });
          return new Response("not found", { status: 404 });
        },
      });
    }, SLOW_MS);

    afterAll(() => server?.stop(true));

    test("status --json: every service of the daemon's view", async () => {
      const run = await runThroughSlowReader(["status", "--json", "--config", valid], "stdout");
      expect(requests).toContain("GET /v1/status");
      expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
      const view = JSON.parse(run.text);
      expect(view.daemon).toBe(true);
      expect(view.services).toHaveLength(SERVICES);
      expect(run.exitCode).toBe(0);
    });

    test("apply --dry-run --json: every change of the plan", async () => {
      const run = await runThroughSlowReader(["apply", "--dry-run", "--json", "--config", valid], "stdout");
      expect(requests).toContain("POST /v1/reload?dry_run=1");
      expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
      const body = JSON.parse(run.text);
      expect(body).toMatchObject({ applied: false, daemon: true });
      expect(body.changes).toHaveLength(2 * SERVICES);
      expect(run.exitCode).toBe(0);
    });

    test("reload --json: the daemon's whole reply", async () => {
      const run = await runThroughSlowReader(["reload", "--json", "--config", valid], "stdout");
      const reply = JSON.parse(run.text);
      expect(reply.result).toBe("success");
      expect(reply.changes).toHaveLength(2 * SERVICES);
      expect(run.exitCode).toBe(0);
    });
  });
});

describe("--json prints one object with an error when the command fails", () => {
  test("status --json: the kernel cannot be read (no IPVS here), or the config is missing", async () => {
    const run = await runThroughSlowReader(["status", "--json", "--config", valid], "stdout");
    const body = JSON.parse(run.text);
    expect(body).toMatchObject({ daemon: false, services: [], error: { op: "read-kernel" } });
    expect(body.error.message).toMatch(/IPVS/);
    expect(run.exitCode).toBe(1);

    const missing = await runLbctl(["status", "--json", "--config", join(dir, "nonexistent.yaml")]);
    expect(JSON.parse(missing.stdout)).toMatchObject({ services: [], error: { op: "load-config", message: expect.stringContaining("does not exist") } });
    expect(missing.exitCode).toBe(2);
  });

  test("reload --json: no daemon answers", async () => {
    const run = await runLbctl(["reload", "--json", "--config", valid]);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ result: "failure", changes: [], error: { op: "connect", message: expect.stringContaining("No daemon answers") } });
    expect(run.exitCode).toBe(1);
  });

  test("apply --json: the same shape, as before", async () => {
    const run = await runLbctl(["apply", "--json", "--config", valid]);
    const body = JSON.parse(run.stdout);
    expect(body).toMatchObject({ changes: [], applied: false, error: { op: "connect" } });
    expect(run.exitCode).toBe(1);
  });

  test("a reader that closes early (| head -c 1) ends lbctl quietly with its own exit code", async () => {
    const proc = Bun.spawn(["bash", "-c", `"$@" | head -c 1 >/dev/null; exit "\${PIPESTATUS[0]}"`, "bash", ...lbctlCommandLine(), "validate", "--json", "--config", valid], {
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
  });
});
