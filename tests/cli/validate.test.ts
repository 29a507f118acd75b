/** `lbctl validate` as cron and people run it: exit codes, --quiet, --json, and the shipped examples. */

import { describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configTree, oneService } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

const root = join(import.meta.dir, "../..");

describe("lbctl validate", () => {
  test("a valid config: exit 0 and the expanded counts", async () => {
    const tree = configTree({ services: { "web.yaml": oneService('ports: [80, "8000-8001"]\nbackends:\n  - address: 10.0.0.1\n  - address: 10.0.0.2') } });
    try {
      const run = await runLbctl(["validate", "--config", tree.main]);
      expect(run.exitCode).toBe(0);
      expect(run.stdout + run.stderr).toContain("1 service, 3 virtual services, 6 destinations");
    } finally {
      tree.remove();
    }
  });

  test("--quiet prints nothing when valid", async () => {
    const tree = configTree();
    try {
      const run = await runLbctl(["validate", "--quiet", "--config", tree.main]);
      expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    } finally {
      tree.remove();
    }
  });

  test("an invalid config: exit 1 with file, line, column and key, also with --quiet", async () => {
    const tree = configTree({ services: { "web.yaml": "services:\n  - name: web\n    ports: [80]\n    scheduler: fastest\n" } });
    try {
      const run = await runLbctl(["validate", "--quiet", "--config", tree.main]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(`${tree.path("config.d/web.yaml")}:4:16: services[0].scheduler: must be one of rr, wrr`);
    } finally {
      tree.remove();
    }
  });

  test("a YAML syntax error is exit 1", async () => {
    const tree = configTree({ main: "node: [unclosed\n" });
    try {
      expect((await runLbctl(["validate", "--config", tree.main])).exitCode).toBe(1);
    } finally {
      tree.remove();
    }
  });

  test("a missing file is exit 2, via --config and via LBCTL_CONFIG", async () => {
    const run = await runLbctl(["validate", "--config", "/nonexistent/config.yaml"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("/nonexistent/config.yaml: the file does not exist");
    const viaEnv = await runLbctl(["validate"], { LBCTL_CONFIG: "/nonexistent/env.yaml" });
    expect(viaEnv.exitCode).toBe(2);
    expect(viaEnv.stderr).toContain("/nonexistent/env.yaml");
  });

  test("--json: the shape of cli.md, valid and invalid", async () => {
    const tree = configTree({ services: { "web.yaml": oneService("ports: [80]\nbackends:\n  - address: 10.0.0.1\n    weight: -1") } });
    try {
      const bad = await runLbctl(["validate", "--json", "--config", tree.main]);
      expect(bad.exitCode).toBe(1);
      const report = JSON.parse(bad.stdout);
      expect(report).toMatchObject({ valid: false, services: null, virtual_services: null, destinations: null });
      expect(report.errors).toEqual([
        { file: tree.path("config.d/web.yaml"), line: 6, column: 17, path: "services[0].backends[0].weight", message: "must be an integer from 0 to 65535, got -1" },
      ]);
      tree.write("config.d/web.yaml", oneService("ports: [80]\nbackends:\n  - address: 10.0.0.1"));
      const good = JSON.parse((await runLbctl(["validate", "--json", "--config", tree.main])).stdout);
      expect(good).toMatchObject({ valid: true, errors: [], services: 1, virtual_services: 1, destinations: 1 });
    } finally {
      tree.remove();
    }
  });

  test("--json for an unreadable file still prints one object, exit 2", async () => {
    const run = await runLbctl(["validate", "--json", "--config", "/nonexistent/config.yaml"]);
    expect(run.exitCode).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ valid: false, services: null });
  });

  test("an unknown flag is a usage error (exit 2), never ignored", async () => {
    const run = await runLbctl(["validate", "--quite"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('Unknown option "--quite"');
  });

  test("the shipped examples in dist/ are valid", async () => {
    const run = await runLbctl(["validate", "--json", "--config", join(root, "dist/config.yaml.example")]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).services).toBeGreaterThan(0);
  });

  test("the README's configuration example is valid", async () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const examples = [...readme.matchAll(/<!-- example: (\S+) -->\n```yaml\n([\s\S]*?)```/g)];
    expect(examples.map((m) => m[1])).toEqual(["config.yaml", "config.d/web.yaml"]);
    const tree = configTree();
    try {
      for (const [, file, text] of examples) tree.write(file!, text!);
      const run = await runLbctl(["validate", "--json", "--config", tree.main]);
      expect(JSON.parse(run.stdout)).toMatchObject({ valid: true, services: 1, virtual_services: 2, destinations: 4 });
    } finally {
      tree.remove();
    }
  });
});

describe("lbctl (global)", () => {
  test("--version prints lbctl X.Y.Z", async () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const run = await runLbctl(["--version"]);
    expect(run).toMatchObject({ exitCode: 0, stdout: `lbctl ${pkg.version}\n` });
  });

  test("--help exits 0 and lists the commands; plain text when piped", async () => {
    const run = await runLbctl(["--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("validate");
    expect(run.stdout).not.toContain("\u001b[");
  });

  test("no command and an unknown command are usage errors", async () => {
    expect((await runLbctl([])).exitCode).toBe(2);
    const unknown = await runLbctl(["frobnicate"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("frobnicate");
  });

  test("lbctl schema service prints JSON Schema", async () => {
    const run = await runLbctl(["schema", "service"]);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout).$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect((await runLbctl(["schema", "other"])).exitCode).toBe(2);
  });
});

// Keeps the examples tree helper honest about nested folders.
test("config trees can hold nested files", () => {
  const tree = configTree();
  try {
    mkdirSync(tree.path("x/y"), { recursive: true });
    cpSync(join(root, "dist/config.d/example-service.yaml"), tree.path("x/y/s.yaml"));
    expect(readFileSync(tree.path("x/y/s.yaml"), "utf8")).toContain("services:");
  } finally {
    tree.remove();
  }
});

test("apply --daemon with one-shot flags is a usage error, not a daemon", async () => {
  const run = await runLbctl(["apply", "--daemon", "--dry-run", "--config", "/nonexistent/config.yaml"]);
  expect(run.exitCode).toBe(2);
  expect(run.stderr).toContain("does not combine with --dry-run");
});
