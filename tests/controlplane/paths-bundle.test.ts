import { expect, test } from "bun:test";
import { checkUpdate, parseUpdateParams } from "../../src/controlplane/bundle.ts";
import { bundleDigest, sha256Hex } from "../../src/controlplane/digest.ts";
import { ControlPlaneError } from "../../src/controlplane/errors.ts";
import { pathProblem } from "../../src/controlplane/paths.ts";

const matches = (path: string) => new Bun.Glob("config.d/*.yaml").match(path);

test("path rules refuse traversal, absolute, NUL, control, backslash, odd encodings and unmatched paths", () => {
  expect(pathProblem("config.d/web.yaml", matches)).toBeUndefined();
  const refused = [
    "../etc/passwd", "config.d/../../x.yaml", "/etc/lbctl/config.d/a.yaml", "config.d//a.yaml", "./config.d/a.yaml",
    "config.d/a\u0000.yaml", "config.d/a\n.yaml", "config.d\\a.yaml", "config.d/\ud800.yaml",
    "config.d/e\u0301.yaml", // NFD spelling of é
    "config.d/a.txt", "config.yaml", "other/a.yaml", "", "x".repeat(5000), "config.d/a.yaml/",
  ];
  for (const path of refused) expect(pathProblem(path, matches)).toBeString();
  expect(pathProblem(42, matches)).toBeString();
});

const file = (path: string, text: string) => ({ path, content: Buffer.from(text).toString("base64"), checksum: sha256Hex(text) });
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as ControlPlaneError).code;
  }
  return "ok";
};

test("a full update yields the new set, its writes and removals", () => {
  const current = new Map([["config.d/old.yaml", sha256Hex("old")], ["config.d/same.yaml", sha256Hex("same")]]);
  const files = [file("config.d/same.yaml", "same"), file("config.d/new.yaml", "new")];
  const digest = bundleDigest(files);
  const checked = checkUpdate(parseUpdateParams({ digest, full: true, base: null, files, deleted: [] }), current, matches, 10);
  expect(checked.writes.map((w) => w.path)).toEqual(["config.d/new.yaml"]);
  expect(checked.removes).toEqual(["config.d/old.yaml"]);
  expect(checked.digest).toBe(digest);
});

test("refusals: checksum, path, count, base, digest, shape", () => {
  const current = new Map<string, string>();
  const good = file("config.d/a.yaml", "a");
  const params = (over: Record<string, unknown>) => ({ digest: bundleDigest([good]), full: true, base: null, files: [good], deleted: [], ...over });
  const run = (over: Record<string, unknown>, max = 10) => code(() => checkUpdate(parseUpdateParams(params(over)), current, matches, max));
  expect(run({})).toBe("ok");
  expect(run({ files: [{ ...good, checksum: sha256Hex("b") }] })).toBe(1001);
  expect(run({ digest: sha256Hex("nope") })).toBe(1001);
  expect(run({ files: [{ ...good, path: "config.d/../../etc/x.yaml" }] })).toBe(1002);
  expect(run({ files: [good, good] })).toBe(1002);
  expect(run({}, 0)).toBe(1005);
  expect(run({ full: false, base: sha256Hex("other") })).toBe(1006);
  expect(run({ full: false, base: bundleDigest([]) })).toBe("ok");
  expect(run({ files: [{ ...good, content: "%%%" }] })).toBe(-32602);
  expect(run({ files: "x" })).toBe(-32602);
  expect(run({ digest: "ABC" })).toBe(-32602);
  expect(run({ deleted: ["config.d/x.yaml"] })).toBe(-32602);
});

test("a delta applies on top of the current set", () => {
  const a = file("config.d/a.yaml", "a");
  const b = file("config.d/b.yaml", "b");
  const current = new Map([[a.path, a.checksum], [b.path, b.checksum]]);
  const c = file("config.d/c.yaml", "c");
  const digest = bundleDigest([a, c]);
  const checked = checkUpdate(parseUpdateParams({ digest, full: false, base: bundleDigest([a, b]), files: [c], deleted: [b.path] }), current, matches, 10);
  expect(checked.removes).toEqual([b.path]);
  expect(checked.writes.map((w) => w.path)).toEqual([c.path]);
});
