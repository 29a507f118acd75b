/** Values from input put into messages: what a terminal would act on is shown escaped, a huge value is cut. */

import { describe, expect, test } from "bun:test";
import { formatIssue } from "../../src/config/errors.ts";
import { MAX_VALUE_CHARS, printable, quoted } from "../../src/config/printable.ts";

/** Every character a terminal interprets (C0, DEL, C1) or that reorders a line (bidi), and lone surrogates. */
const TERMINAL_ACTIVE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;

describe("printable", () => {
  test("escape sequences that retitle or recolour a terminal come out as visible text", () => {
    expect(printable("web\u001b]0;pwned\u0007")).toBe("web\\e]0;pwned\\x07");
    expect(printable("\u001b[31mred\u001b[0m")).toBe("\\e[31mred\\e[0m");
    expect(printable("a\u009b2Jb")).toBe("a\\x9b2Jb"); // CSI as one C1 character
    expect(printable("abc\u202edef")).toBe("abc\\u202edef"); // right-to-left override
    expect(printable("line\nnext\r\t")).toBe("line\\nnext\\r\\t");
  });

  test("ordinary text, including non-ASCII letters and emoji, is unchanged", () => {
    const text = "Zürich 北京 — web-01 😀 [::1]:80 ${VAR} \\e";
    expect(printable(text)).toBe(text);
  });

  test("binary garbage: every control byte and lone surrogate escaped, nothing terminal-active left", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const garbage = Array.from({ length: 4096 }, () => String.fromCharCode(Math.floor(random() * 0x10000))).join("");
    const escaped = printable(garbage, { max: Number.POSITIVE_INFINITY });
    expect(garbage).toMatch(TERMINAL_ACTIVE);
    expect(escaped).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    // Surrogates left are only whole pairs (characters outside the BMP).
    expect(escaped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });

  test("newlines kept for text lbctl laid out itself (tables, diffs), everything else still escaped", () => {
    expect(printable("a\tb\nc\u001bd", { newlines: "keep" })).toBe("a\tb\nc\\ed");
  });

  test("a 1 MiB value is cut, saying how long it was", () => {
    const huge = "x".repeat(1024 * 1024);
    const shown = quoted(huge);
    expect(shown.length).toBeLessThan(MAX_VALUE_CHARS + 100);
    expect(shown).toBe(`"${"x".repeat(MAX_VALUE_CHARS)}…" (1048576 characters, cut)`);
    expect(printable(huge).length).toBeLessThan(2100);
    expect(printable(huge)).toEndWith("… [cut: 1048576 characters in all]");
    expect(quoted("web")).toBe('"web"');
  });

  test("a cut never splits a character made of two UTF-16 units", () => {
    const shown = quoted(`${"x".repeat(MAX_VALUE_CHARS - 1)}😀😀`);
    expect(shown).toStartWith(`"${"x".repeat(MAX_VALUE_CHARS - 1)}…"`);
  });
});

describe("formatIssue", () => {
  test("file, key and message are each escaped and bounded", () => {
    const line = formatIssue({ file: "/etc/lbctl/config.d/\u001b[2Jevil.yaml", line: 3, column: 5, path: "services[0].\u0007", message: `unknown key "\u001b]0;x\u0007"${"y".repeat(100_000)}` });
    expect(line).not.toMatch(TERMINAL_ACTIVE);
    expect(line).toStartWith("/etc/lbctl/config.d/\\e[2Jevil.yaml:3:5: services[0].\\x07: unknown key \"\\e]0;x\\x07\"");
    expect(line.length).toBeLessThan(2300);
  });
});
