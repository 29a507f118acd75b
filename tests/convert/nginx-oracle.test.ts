/**
 * Real nginx (Debian's nginx with libnginx-mod-stream) is the oracle of the grammar: it accepts every fixture the
 * tests call valid and refuses every one they call invalid, and its `nginx -T` dump converts like the files.
 * Without nginx the tests fail under CI=true and are skipped loudly elsewhere.
 */

import { describe, expect, test } from "bun:test";
import { fileReader } from "../../src/convert/fs-reader.ts";
import { convertNginx } from "../../src/convert/nginx/convert.ts";
import { memoryReader, splitNginxDump } from "../../src/convert/source.ts";
import { FIXTURES, fixtures, requireTool } from "./support/fixtures.ts";
import { nginxAvailable, runNginxTest } from "./support/nginx-oracle.ts";

const available = requireTool(nginxAvailable());

describe.skipIf(!available)("nginx -t agrees with the fixtures", () => {
  for (const fixture of fixtures("valid")) {
    if (fixture.oracleSkip) {
      test(`${fixture.name}: real nginx cannot load it here (${fixture.oracleSkip}), and says so`, () => {
        const result = runNginxTest(fixture.file);
        expect(result.available && result.ok).toBe(false);
      });
      continue;
    }
    test(`${fixture.name}: accepted`, () => {
      const result = runNginxTest(fixture.file);
      if (result.available && !result.ok) console.error(result.output);
      expect(result).toMatchObject({ available: true, ok: true });
    });
  }
  for (const fixture of fixtures("invalid")) {
    test(`${fixture.name}: refused`, () => {
      const result = runNginxTest(fixture.file);
      expect(result).toMatchObject({ available: true, ok: false });
      expect((result as { output: string }).output).toContain("[emerg]");
    });
  }
});

describe.skipIf(!available)("nginx -T", () => {
  test("the dump of a config with includes converts exactly like its files", () => {
    const file = `${FIXTURES}/nginx/valid/includes/nginx.conf`;
    const result = runNginxTest(file, { dump: true });
    expect(result).toMatchObject({ available: true, ok: true });
    const { main, files } = splitNginxDump((result as { output: string }).output);
    expect(main).toBe(file);
    expect([...files.keys()].length).toBe(4);
    const fromDump = convertNginx(memoryReader(files), main);
    const fromFiles = convertNginx(fileReader(), file);
    expect(fromDump.services.map((s) => s.service)).toEqual(fromFiles.services.map((s) => s.service));
    expect(fromDump.services[0]!.sources).toEqual(fromFiles.services[0]!.sources);
  });
});
