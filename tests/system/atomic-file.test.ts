import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, type FileOps } from "../../src/system/atomic-file.ts";
import { configTree } from "../support/config-tree.ts";

test("replaces the file and leaves no temporary behind", () => {
  const tree = configTree();
  try {
    const target = tree.path("out.yaml");
    writeFileSync(target, "old\n");
    writeFileAtomic(target, "new\n", { mode: 0o600 });
    expect(readFileSync(target, "utf8")).toBe("new\n");
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(tree.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  } finally {
    tree.remove();
  }
});

test("a failure while writing keeps the old file whole and removes the temporary", () => {
  const tree = configTree();
  try {
    const target = tree.path("out.yaml");
    writeFileSync(target, "old content\n");
    const failing: FileOps = {
      ...require("node:fs"),
      writeSync: () => {
        throw new Error("ENOSPC: no space left on device");
      },
    };
    expect(() => writeFileAtomic(target, "new content\n", {}, failing)).toThrow("ENOSPC");
    expect(readFileSync(target, "utf8")).toBe("old content\n");
    expect(readdirSync(tree.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  } finally {
    tree.remove();
  }
});

test("a process killed in the middle of the write leaves the old file whole", async () => {
  const tree = configTree();
  try {
    const target = tree.path("services.yaml");
    const old = `services:\n${"  # padding\n".repeat(1000)}`;
    writeFileSync(target, old);
    // The child writes half of a large file, then is killed (SIGKILL, no cleanup) before it can rename.
    const script = join(tree.dir, "crash.ts");
    writeFileSync(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(join(import.meta.dir, "../../src/system/atomic-file.ts"))};
       import * as fs from "node:fs";
       let calls = 0;
       const ops = { ...fs, writeSync: (fd: number, data: Uint8Array) => {
         if (++calls === 2) process.kill(process.pid, "SIGKILL");
         return fs.writeSync(fd, data.subarray(0, Math.min(data.length, 4096)));
       } };
       writeFileAtomic(${JSON.stringify(target)}, "x".repeat(1 << 20), {}, ops as never);`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "ignore", stderr: "ignore" });
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
    expect(readFileSync(target, "utf8")).toBe(old);
  } finally {
    tree.remove();
  }
});
