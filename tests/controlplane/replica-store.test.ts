/** The secondary's set write: commit by journal, roll forward after a crash, nothing changed on a failed write. */

import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControlPlaneError } from "../../src/controlplane/errors.ts";
import { JOURNAL_NAME, recoverReplica, writeSet } from "../../src/controlplane/replica-store.ts";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const bytes = (text: string) => new TextEncoder().encode(text);

function tree(): { folder: string; journal: string } {
  dir = mkdtempSync(join(tmpdir(), "lbctl-replica-"));
  mkdirSync(join(dir, "config.d"));
  writeFileSync(join(dir, "config.d/a.yaml"), "old a");
  writeFileSync(join(dir, "config.d/gone.yaml"), "old gone");
  return { folder: dir, journal: join(dir, "config.d") };
}

test("a set is written whole: new contents, removals, no temporary files or journal left", () => {
  const { folder, journal } = tree();
  writeSet(folder, journal, [{ path: "config.d/a.yaml", content: bytes("new a") }, { path: "config.d/sub/b.yaml", content: bytes("new b") }], ["config.d/gone.yaml"]);
  expect(readFileSync(join(dir, "config.d/a.yaml"), "utf8")).toBe("new a");
  expect(readFileSync(join(dir, "config.d/sub/b.yaml"), "utf8")).toBe("new b");
  expect(existsSync(join(dir, "config.d/gone.yaml"))).toBe(false);
  expect(readdirSync(join(dir, "config.d")).sort()).toEqual(["a.yaml", "sub"]);
});

test("a crash after the journal was committed is rolled forward at the next start", () => {
  const { journal } = tree();
  // What a crash right after the commit point leaves: the staged file and the journal, nothing renamed yet.
  const staged = join(dir, "config.d/.a.yaml.lbctl-new-1-abc");
  writeFileSync(staged, "new a");
  writeFileSync(join(journal, JOURNAL_NAME), JSON.stringify({ renames: [{ from: staged, to: join(dir, "config.d/a.yaml") }], removes: [join(dir, "config.d/gone.yaml")] }));
  expect(recoverReplica(journal)).toBe(true);
  expect(readFileSync(join(dir, "config.d/a.yaml"), "utf8")).toBe("new a");
  expect(existsSync(join(dir, "config.d/gone.yaml"))).toBe(false);
  expect(existsSync(join(journal, JOURNAL_NAME))).toBe(false);
  expect(recoverReplica(journal)).toBe(false); // nothing to do the second time
});

test("a write that fails before the commit point changes nothing and is error 1008", () => {
  const { folder, journal } = tree();
  writeFileSync(join(dir, "config.d/blocker"), "a file where a folder must go");
  let error: unknown;
  try {
    writeSet(folder, journal, [{ path: "config.d/a.yaml", content: bytes("new a") }, { path: "config.d/blocker/b.yaml", content: bytes("b") }], ["config.d/gone.yaml"]);
  } catch (caught) {
    error = caught;
  }
  expect((error as ControlPlaneError).code).toBe(1008);
  expect(readFileSync(join(dir, "config.d/a.yaml"), "utf8")).toBe("old a");
  expect(readFileSync(join(dir, "config.d/gone.yaml"), "utf8")).toBe("old gone");
  expect(readdirSync(join(dir, "config.d")).sort()).toEqual(["a.yaml", "blocker", "gone.yaml"]);
});
