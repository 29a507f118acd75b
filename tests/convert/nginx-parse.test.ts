import { describe, expect, test } from "bun:test";
import { fileReader } from "../../src/convert/fs-reader.ts";
import { ConvertError } from "../../src/convert/issues.ts";
import { convertNginx } from "../../src/convert/nginx/convert.ts";
import { parseNginx, renderTree, MAX_NESTING } from "../../src/convert/nginx/parse.ts";
import { MAX_FILE_BYTES, memoryReader, splitNginxDump, isNginxDump } from "../../src/convert/source.ts";
import { FIXTURES, fixtures, golden } from "./support/fixtures.ts";

const parseText = (text: string, files: Record<string, string> = {}) =>
  parseNginx(memoryReader(new Map([["/etc/nginx/nginx.conf", text], ...Object.entries(files)])), "/etc/nginx/nginx.conf").directives;

function syntaxError(text: string, files: Record<string, string> = {}): ConvertError {
  try {
    parseText(text, files);
  } catch (error) {
    if (error instanceof ConvertError) return error;
    throw error;
  }
  throw new Error("expected a ConvertError");
}

describe("nginx grammar fixtures", () => {
  for (const fixture of fixtures("valid")) {
    test(`${fixture.name}: parses into its golden tree`, () => {
      const config = parseNginx(fileReader(), fixture.file);
      const tree = renderTree(config.directives).replaceAll(`${FIXTURES}/`, "");
      expect(tree).toBe(golden(`${fixture.name}.tree`, tree));
    });
  }
  for (const fixture of fixtures("invalid")) {
    test(`${fixture.name}: refused with ${fixture.expect}`, () => {
      let error: unknown;
      try {
        parseNginx(fileReader(), fixture.file);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConvertError);
      expect((error as ConvertError).describe().replace(/^.*\//, "")).toBe(fixture.expect!);
    });
  }
});

describe("tokens", () => {
  test("quotes and escapes: nginx's unescaping, and the positions of the words", () => {
    const [d] = parseText(`a "x\\"y" 'it\\'s' "t\\tn" b\\;c "\\q";`);
    expect(d!.args).toEqual(['x"y', "it's", "t\tn", "b\\;c", "\\q"]);
    expect([d!.line, d!.column]).toEqual([1, 1]);
  });
  test("# starts a comment only at a word's start", () => {
    const [d, e] = parseText("a b#c # comment ;\n;\nnext 1; # trailing");
    expect(d!.args).toEqual(["b#c"]);
    expect(e!.name).toBe("next");
    expect([e!.line, e!.column]).toEqual([3, 1]);
  });
  test("${var} inside a word does not open a block; } inside a word is text", () => {
    const [d] = parseText("set $x ${a}b}c;");
    expect(d!.args).toEqual(["$x", "${a}b}c"]);
    expect(d!.block).toBeUndefined();
  });
  test("a quoted word may be followed by ) (if conditions)", () => {
    const [d] = parseText('if ($a = "b") { return 1; }');
    expect(d!.args).toEqual(["($a", "=", "b", ")"]);
    expect(d!.block?.[0]?.name).toBe("return");
  });
  test("multi-line words and blocks keep line and column of their first character", () => {
    const [s] = parseText("\n\n  stream\n  {\n\tserver {\n  }\n}");
    expect([s!.line, s!.column]).toEqual([3, 3]);
    expect([s!.block![0]!.line, s!.block![0]!.column]).toEqual([5, 2]);
  });
  test("*_by_lua_block bodies are opaque: braces in Lua strings, long brackets and comments do not count", () => {
    const body = ` local a = "}" -- }\n local b = [==[ } ]==] --[[ { ]] if a then x = {} end `;
    const [d, after] = parseText(`content_by_lua_block {${body}}\nnext;`);
    expect(d!.lua).toBe(body);
    expect(d!.block).toBeUndefined();
    expect(after!.name).toBe("next");
  });
  test("an unclosed Lua block names where it opened", () => {
    expect(syntaxError("x {\n content_by_lua_block { t = { 1 }").describe()).toBe('/etc/nginx/nginx.conf:2:23: unexpected end of file in the Lua block opened at 2:23, expecting "}"');
  });
});

describe("includes", () => {
  test("relative to the main file's folder, globbed, sorted, spliced where they stand", () => {
    const tree = parseText("stream { include conf.d/*.conf; last; }", {
      "/etc/nginx/conf.d/b.conf": "b;",
      "/etc/nginx/conf.d/a.conf": "a;",
      "/etc/nginx/conf.d/.hidden.conf": "hidden;",
      "/etc/nginx/conf.d/c.txt": "txt;",
    });
    expect(tree[0]!.block!.map((d) => `${d.file}:${d.name}`)).toEqual(["/etc/nginx/conf.d/a.conf:a", "/etc/nginx/conf.d/b.conf:b", "/etc/nginx/nginx.conf:last"]);
  });
  test("a glob matching nothing is fine; a missing plain file is an error at the include", () => {
    expect(parseText("include none/*.conf; a;").map((d) => d.name)).toEqual(["a"]);
    expect(syntaxError("a;\ninclude missing.conf;").describe()).toBe("/etc/nginx/nginx.conf:2:1: /etc/nginx/missing.conf: no such file");
  });
  test("an include loop is named, file by file", () => {
    const error = syntaxError("include a.conf;", { "/etc/nginx/a.conf": "include b.conf;", "/etc/nginx/b.conf": "include a.conf;" });
    expect(error.message).toBe("include loop: /etc/nginx/a.conf includes /etc/nginx/b.conf includes /etc/nginx/a.conf");
    expect(error.location).toEqual({ file: "/etc/nginx/b.conf", line: 1, column: 1 });
  });
  test("an included file must balance its own braces, as nginx requires", () => {
    expect(syntaxError("stream { include a.conf; }", { "/etc/nginx/a.conf": "}" }).describe()).toBe('/etc/nginx/a.conf:1:1: unexpected "}": no block is open here');
  });
});

describe("nginx -T dumps", () => {
  const dump = [
    "# configuration file /etc/nginx/nginx.conf:",
    "events {}",
    "stream {",
    "    include /etc/nginx/streams/*.conf;",
    "}",
    "",
    "# configuration file /etc/nginx/streams/db.conf:",
    "upstream db { server 10.0.0.5:5432; }",
    "server {",
    "    listen 5432;",
    "    proxy_pass db;",
    "}",
    "",
  ].join("\n");
  test("recognised, split into files, line numbers those of the original files", () => {
    expect(isNginxDump(dump)).toBe(true);
    expect(isNginxDump("events {}\n# configuration file /x:")).toBe(false);
    const { main, files } = splitNginxDump(dump);
    expect(main).toBe("/etc/nginx/nginx.conf");
    const tree = parseNginx(memoryReader(files), main).directives;
    const server = tree[1]!.block![1]!;
    expect([server.file, server.line, server.block![0]!.line]).toEqual(["/etc/nginx/streams/db.conf", 2, 3]);
  });
});

describe("bounds: a clear error, never a hang or a crash", () => {
  test(`10,000 nested blocks stop at ${MAX_NESTING} levels`, () => {
    const started = performance.now();
    const error = syntaxError(`${"a {".repeat(10_000)}${"}".repeat(10_000)}`);
    expect(error.message).toBe(`blocks nested deeper than ${MAX_NESTING} levels`);
    expect(error.location?.line).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });
  test("a 50 MB file is refused unread", () => {
    const error = (() => {
      try {
        parseText("x".repeat(50_000_000));
      } catch (e) {
        return e as ConvertError;
      }
    })();
    expect(error?.code).toBe("unreadable");
    expect(error?.message).toBe(`/etc/nginx/nginx.conf: the file is 50000000 bytes; inputs are limited to ${MAX_FILE_BYTES} bytes`);
  });
  test("a file just under the limit parses in bounded time", () => {
    const text = "a b;\n".repeat(Math.floor(MAX_FILE_BYTES / 5) - 1);
    const started = performance.now();
    expect(parseText(text).length).toBe(Math.floor(MAX_FILE_BYTES / 5) - 1);
    // The worst case (a directive every 5 bytes) on a loaded 2-core machine: about 5 s.
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 60_000);
});

test("the includes fixture converts only what its globs match", () => {
  const result = convertNginx(fileReader(), `${FIXTURES}/nginx/valid/includes/nginx.conf`);
  expect(result.services.map((s) => [s.service.name, s.service.ports])).toEqual([["web-pool", [8080, 8081]]]);
});
