/**
 * Issue 11 §4: what the YAML layer says reaches users in lbctl's words, about what they wrote: a second document,
 * a tag, an IPv4-mapped address, a file in the wrong encoding.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { loadConfig, type LoadResult } from "../../src/config/load.ts";
import { configTree, MINIMAL_MAIN, oneService, type ConfigTree } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function failure(result: LoadResult): Extract<LoadResult, { ok: false }> {
  if (result.ok) throw new Error("expected the config to be refused");
  return result;
}

describe("a second YAML document", () => {
  test("is named with its file and the line of the second ---", () => {
    tree = configTree({ main: `${MINIMAL_MAIN}---\nmode: dr\n` });
    const result = failure(loadConfig(tree.main, { env: {} }));
    expect(result.issues).toEqual([
      {
        file: tree.main,
        line: 5,
        column: 1,
        path: "",
        message: 'a config file holds one YAML document, but a second one starts at the "---" on line 5: remove that marker, or move what follows into a file of its own',
      },
    ]);
  });

  test("a leading --- is still one document, and a service file is checked too", () => {
    tree = configTree({ main: `---\n${MINIMAL_MAIN}`, services: { "a.yaml": `---\nservices: []\n---\nservices: []\n` } });
    const result = failure(loadConfig(tree.main, { env: {} }));
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file: tree.path("config.d/a.yaml"), line: 3 });
    expect(result.issues[0]!.message).not.toContain("parseAllDocuments");
  });
});

describe("tags", () => {
  test("mode: !!binary says the tag is not allowed, not 'got a mapping'", () => {
    tree = configTree({ main: `mode: !!binary bmF0\n${MINIMAL_MAIN}` });
    const result = failure(loadConfig(tree.main, { env: {} }));
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file: tree.main, line: 1, path: "mode" });
    expect(result.issues[0]!.message).toStartWith("the tag !!binary is not allowed: config values are plain strings, numbers, booleans, lists and mappings");
    expect(result.issues[0]!.message).not.toContain("mapping, got");
  });

  test("custom and collection tags are refused by name; core tags are fine", () => {
    tree = configTree({
      main: `node: { name: !host a }\nnetwork:\n  frontend:\n    vip: !!str 192.0.2.10\n`,
      services: { "a.yaml": "services: !!set { a, b }\n" },
    });
    const result = failure(loadConfig(tree.main, { env: {} }));
    expect(result.issues.map((i) => [i.path, i.message.split(":")[0]])).toEqual([["node.name", "the tag !host is not allowed"]]);
    tree.write("config.yaml", `node: { name: !!str a }\nnetwork:\n  frontend:\n    vip: !!str 192.0.2.10\n`);
    const second = failure(loadConfig(tree.main, { env: {} }));
    expect(second.issues.map((i) => [i.path, i.message.split(":")[0]])).toEqual([["services", "the tag !!set is not allowed"]]);
  });
});

describe("IPv4-mapped addresses", () => {
  test("a backend is echoed as written, with what to write instead", () => {
    tree = configTree({ services: { "a.yaml": oneService("ports: [80]\nbackends:\n  - address: ::ffff:10.0.0.1") } });
    const result = failure(loadConfig(tree.main, { env: {} }));
    expect(result.issues).toHaveLength(1);
    const message = result.issues[0]!.message;
    expect(message).toStartWith("::ffff:10.0.0.1 is IPv6 but the service's VIP 192.0.2.10 is IPv4");
    expect(message).toContain("::ffff:10.0.0.1 is an IPv4-mapped IPv6 address: write 10.0.0.1 for an IPv4 backend");
    expect(message).not.toContain("a00:1");
  });

  test("a mapped VIP is echoed as written, with its IPv4 form", () => {
    tree = configTree({
      main: MINIMAL_MAIN.replace("192.0.2.10", "::FFFF:192.0.2.10"),
      services: { "a.yaml": oneService("ports: [80]\nbackends:\n  - address: 10.0.0.1") },
    });
    const message = failure(loadConfig(tree.main, { env: {} })).issues[0]!.message;
    expect(message).toContain("the service's VIP ::FFFF:192.0.2.10 is IPv6");
    expect(message).toContain("write 192.0.2.10 for an IPv4 service");
  });

  test("clashes (a repeated backend, a VIP:port defined twice, the sorry server, bgp.announce) echo the address as written", () => {
    const service = (name: string, extra: string) =>
      oneService(`vip: "::ffff:10.0.0.1"\nports: [80]\n${extra}\nbackends:\n  - address: "::ffff:10.0.0.2"\n  - address: "::FFFF:10.0.0.2"`, name).replace("services:\n", "");
    tree = configTree({
      main: `${MINIMAL_MAIN}bgp:\n  enabled: true\n  local_asn: 65001\n  router_id: 10.0.0.1\n  neighbors: [{ address: 10.0.0.254, remote_asn: 65000 }]\n  announce: ["::ffff:10.0.0.77"]\n`,
      services: { "a.yaml": `services:\n${service("web", 'sorry_server: "[::ffff:10.0.0.2]:80"')}${service("api", "")}` },
    });
    const messages = failure(loadConfig(tree.main, { env: {} })).issues.map((issue) => `${issue.path}: ${issue.message}`);
    const starting = (prefix: string) => messages.find((message) => message.startsWith(prefix));
    expect(starting("services[0].backends[1]: repeats backend [::FFFF:10.0.0.2]:80 of services[0].backends[0]")).toBeDefined();
    expect(starting("services[0].sorry_server: [::ffff:10.0.0.2]:80 is also services[0].backends[0]")).toBeDefined();
    expect(starting("services[1].ports: tcp:[::ffff:10.0.0.1]:80 is defined twice")).toBeDefined();
    expect(starting("bgp.announce[0]: ::ffff:10.0.0.77 is the VIP of no service")).toBeDefined();
    for (const message of messages) expect(message).not.toMatch(/a00:/);
  });
});

describe("encodings", () => {
  const utf16le = (text: string, bom: boolean) => Buffer.concat([Buffer.from(bom ? [0xff, 0xfe] : []), Buffer.from(text, "utf16le")]);
  const utf16be = (text: string) => Buffer.from(text, "utf16le").swap16();
  const utf32le = (text: string) => Buffer.concat([...text].map((ch) => Buffer.from([ch.charCodeAt(0), 0, 0, 0])));

  const cases: Array<[name: string, bytes: Buffer, said: string]> = [
    ["UTF-16LE with a byte order mark (PowerShell's >)", utf16le(MINIMAL_MAIN, true), "UTF-16LE"],
    ["UTF-16LE without a mark", utf16le(MINIMAL_MAIN, false), "UTF-16LE"],
    ["UTF-16BE without a mark", utf16be(MINIMAL_MAIN), "UTF-16BE"],
    ["UTF-32LE without a mark", utf32le(MINIMAL_MAIN), "UTF-32LE"],
  ];
  for (const [name, bytes, said] of cases) {
    test(`${name} is named, not shown as mojibake`, () => {
      tree = configTree();
      writeFileSync(tree.main, bytes);
      const result = failure(loadConfig(tree.main, { env: {} }));
      expect(result.code).toBe("invalid");
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.file).toBe(tree.main);
      expect(result.issues[0]!.message).toStartWith(`the file is ${said}`);
      expect(result.issues[0]!.message).toContain("config files must be UTF-8");
      expect(result.issues[0]!.message).toContain(`iconv -f ${said} -t UTF-8`);
    });
  }

  test("a Latin-1 byte is named with its line and column", () => {
    tree = configTree();
    writeFileSync(tree.main, Buffer.concat([Buffer.from(MINIMAL_MAIN.replace("lb-a", "caf")), Buffer.from("# caf\xe9\n", "latin1")]));
    const issue = failure(loadConfig(tree.main, { env: {} })).issues[0]!;
    expect(issue).toMatchObject({ file: tree.main, line: 5, column: 6 });
    expect(issue.message).toStartWith("the file holds the byte 0xE9, which is not valid UTF-8");
  });

  test("a NUL byte in a service file says it is not a text file", () => {
    tree = configTree({ services: { "a.yaml": "services: []\n\0\0\0\0junk" } });
    const issue = failure(loadConfig(tree.main, { env: {} })).issues[0]!;
    expect(issue).toMatchObject({ file: tree.path("config.d/a.yaml"), line: 2, column: 1 });
    expect(issue.message).toContain("a NUL byte");
  });

  test("UTF-8, with or without a byte order mark, and non-ASCII text load", () => {
    tree = configTree({ services: { "a.yaml": `# Café — 東京\n${oneService("ports: [80]\nbackends: [{ address: 10.0.0.1 }]")}` } });
    writeFileSync(tree.main, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(MINIMAL_MAIN)]));
    const result = loadConfig(tree.main, { env: {} });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.services.map((s) => s.name)).toEqual(["web"]);
  });

  test("validate exits 1 for a UTF-16 file (read, but not a valid config)", async () => {
    tree = configTree();
    writeFileSync(tree.main, utf16le(MINIMAL_MAIN, true));
    const run = await runLbctl(["validate", "--config", tree.main]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${tree.main}: the file is UTF-16LE (little-endian) text: config files must be UTF-8`);
  }, 20_000);
});

describe("syntax errors on pathological lines", () => {
  // Found by the fuzzer (tests/fuzz): `backends:[[[...` is a plain scalar, not a flow collection, so the nesting
  // scan lets it through to the parser; the hint for ${VAR} inside brackets then backtracked for seconds per error.
  test("a line of 100,000 brackets gets its located error at once, with the ${VAR} hint only when it applies", () => {
    const brackets = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    tree = configTree({ main: MINIMAL_MAIN, services: { "web.yaml": `services:\n  - name: web\n    backends:${brackets}\n      - ip: 10.0.0.10\n` } });
    const started = performance.now();
    const result = failure(loadConfig(tree.main, { env: {} }));
    // Linear work takes milliseconds; the quadratic version took minutes at this size. The bound only catches that.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ file: tree.path("config.d/web.yaml"), line: 3 });
    expect(result.issues[0]!.message).toStartWith("YAML syntax error:");
    expect(result.issues[0]!.message).not.toContain("${VAR}");
  });

  test("the ${VAR} hint still names a variable inside brackets", () => {
    tree = configTree({ main: MINIMAL_MAIN, services: { "web.yaml": `services: [ { name: web, vip: \${VIP}, ports: [80] ]\n` } });
    const result = failure(loadConfig(tree.main, { env: { VIP: "192.0.2.1" } }));
    expect(result.issues[0]!.message).toContain('quote a ${VAR} value: "${VAR}"');
  });
});
