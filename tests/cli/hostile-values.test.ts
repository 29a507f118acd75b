/**
 * Hostile values reach lbctl's messages escaped: an escape sequence in a name, key, file name or argument never
 * reaches the terminal raw, binary garbage neither, and a 1 MiB value is cut with its length. Library messages
 * (citty's) read as lbctl's own.
 */

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { configTree, MINIMAL_MAIN } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

/** Characters a terminal acts on, except the newline that ends each line. */
const TERMINAL_ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const TITLE = "\u001b]0;pwned\u0007";

// Each test runs lbctl a few times; a shared 2-core machine can take seconds per run.
setDefaultTimeout(30_000);

function expectInert(text: string): void {
  const at = text.search(TERMINAL_ACTIVE);
  if (at >= 0) throw new Error(`terminal-active character U+${text.charCodeAt(at).toString(16).padStart(4, "0")} at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 40))}`);
}

describe("values in messages are escaped", () => {
  test("an OSC title sequence in node.name and a colour sequence in a key: shown escaped, text and --json", async () => {
    const tree = configTree({ main: `node: { name: "lb\\e]0;pwned\\a" }\nnetwork:\n  frontend:\n    vip: 192.0.2.10\n"\\e[31mred": 1\n` });
    try {
      const run = await runLbctl(["validate", "--config", tree.main]);
      expect(run.exitCode).toBe(1);
      expectInert(run.stderr);
      expect(run.stderr).toContain('node.name: must be 1-64 characters of A-Z a-z 0-9 _ . -, got "lb\\e]0;pwned\\x07"');
      expect(run.stderr).toContain('unknown key "\\e[31mred"');
      const json = await runLbctl(["validate", "--json", "--config", tree.main]);
      expectInert(json.stdout);
      // Messages are for people in JSON too: the same visible escapes; the key's exact text stays in `path`.
      const report = JSON.parse(json.stdout);
      expect(report.errors.map((e: { message: string }) => e.message).join("\n")).toContain('got "lb\\e]0;pwned\\x07"');
      expect(report.errors.map((e: { path: string }) => e.path)).toContain("\u001b[31mred");
    } finally {
      tree.remove();
    }
  });

  test("a file name holding an escape sequence, and C1 / bidi characters in a value", async () => {
    const tree = configTree();
    try {
      tree.write(`config.d/${TITLE}.yaml`, `services:\n  - name: web\n    ports: [80]\n    scheduler: "\\x9b2J\\u202Eevil"\n`);
      const run = await runLbctl(["validate", "--config", tree.main]);
      expect(run.exitCode).toBe(1);
      expectInert(run.stderr);
      expect(run.stderr).toContain("config.d/\\e]0;pwned\\x07.yaml:4:");
      expect(run.stderr).toContain('got "\\x9b2J\\u202eevil"');
      const json = await runLbctl(["validate", "--json", "--config", tree.main]);
      expectInert(json.stdout);
      expect(JSON.parse(json.stdout).errors[0].file).toEndWith(`config.d/${TITLE}.yaml`);
    } finally {
      tree.remove();
    }
  });

  test("binary garbage in a value (seeded): nothing terminal-active in text or JSON, still one line per error", async () => {
    const seed = 20261203;
    let state = seed;
    const byte = () => (state = (state * 1103515245 + 12345) % 2147483648) >>> 23;
    const garbage = Buffer.from(Array.from({ length: 2000 }, byte).filter((b) => b !== 0x22 && b !== 0x5c && b !== 0x0a && b !== 0x0d));
    const tree = configTree();
    try {
      const file = tree.path("config.yaml");
      await Bun.write(file, Buffer.concat([Buffer.from('node: { name: "'), garbage, Buffer.from('" }\nnetwork:\n  frontend:\n    vip: 192.0.2.10\n')]));
      const run = await runLbctl(["validate", "--config", file]);
      expect([1, 2]).toContain(run.exitCode);
      expectInert(run.stderr);
      expect(run.stderr.trimEnd().split("\n").every((line) => line.startsWith("[error] "))).toBe(true);
      const json = await runLbctl(["validate", "--json", "--config", file]);
      expectInert(json.stdout);
      expect(JSON.parse(json.stdout).valid).toBe(false);
    } catch (error) {
      throw new Error(`seed ${seed}: ${(error as Error).message}`);
    } finally {
      tree.remove();
    }
  });

  test("a 1 MiB value is cut in the message, saying how long it was", async () => {
    const tree = configTree({ main: `${MINIMAL_MAIN}mode: "${"a".repeat(1024 * 1024)}"\n` });
    try {
      const run = await runLbctl(["validate", "--config", tree.main]);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("…\" (1048576 characters, cut)");
      expect(run.stderr.length).toBeLessThan(4096);
      const json = await runLbctl(["validate", "--json", "--config", tree.main]);
      expect(json.stdout.length).toBeLessThan(8192);
    } finally {
      tree.remove();
    }
  });

  test("an argument holding an escape sequence: the unknown command and the unknown option are shown escaped", async () => {
    const command = await runLbctl([TITLE]);
    expect(command.exitCode).toBe(2);
    expectInert(command.stderr);
    expect(command.stderr).toBe('lbctl: unknown command "\\e]0;pwned\\x07"; see lbctl --help\n');
    const option = await runLbctl(["validate", `--x${TITLE}`]);
    expect(option.exitCode).toBe(2);
    expectInert(option.stderr);
    expect(option.stderr).toContain('Unknown option "--x\\e]0;pwned\\x07"; see lbctl validate --help');
  });

  test("doctor with a hostile config: the config line is escaped", async () => {
    const tree = configTree({ main: `node: { name: "\\e[2J" }\nnetwork:\n  frontend:\n    vip: 192.0.2.10\n` });
    try {
      const run = await runLbctl(["doctor", "--config", tree.main]);
      expect(run.stdout).toMatch(/^FAIL {2}config .*got "\\e\[2J"/m);
      expectInert(run.stdout);
      expectInert(run.stderr);
    } finally {
      tree.remove();
    }
  });
});

describe("library messages read as lbctl's own", () => {
  test("help of a nested command names it in full: USAGE lbctl setup frr", async () => {
    const run = await runLbctl(["setup", "frr", "--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("USAGE lbctl setup frr [OPTIONS]");
    expect(run.stdout).not.toMatch(/USAGE setup/);
    expect((await runLbctl(["validate", "--help"])).stdout).toContain("USAGE lbctl validate [OPTIONS]");
  });

  test("a command group without its command: which commands there are, no citty wording", async () => {
    const setup = await runLbctl(["setup"]);
    expect(setup.exitCode).toBe(2);
    expect(setup.stderr).toEndWith("lbctl setup: name a command (frr, sysctl, files, certs); see lbctl setup --help\n");
    expect(setup.stderr).not.toContain("No command specified");
    const none = await runLbctl([]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain("lbctl: name a command (validate, schema, apply");
    const unknown = await runLbctl(["setup", "certz"]);
    expect(unknown).toMatchObject({ exitCode: 2, stderr: 'lbctl setup: unknown command "certz"; see lbctl setup --help\n' });
  });

  test("flags before the command word apply to the command (lbctl --config FILE validate)", async () => {
    const tree = configTree();
    try {
      const run = await runLbctl(["--config", tree.main, "validate", "--quiet"]);
      expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
      expect((await runLbctl(["--config", "/nonexistent.yaml", "validate"])).exitCode).toBe(2);
    } finally {
      tree.remove();
    }
  });
});
