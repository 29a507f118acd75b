/**
 * apply's and status's own output path against the real kernel, through a pipe whose reader starts late: a plan of
 * 1,000 changes (about 200 KB, three pipe buffers) arrives whole as one JSON object, for --dry-run and for a real
 * apply, and `ipvsadm -Sn` agrees with what was printed. The host tests (tests/cli/output.test.ts) cover the other
 * commands with 3,000 service files; under emulation that many would cost minutes here for no more coverage.
 *
 * The three tests are one sequence (planned, applied, listed) on one table: the file gets a network namespace of its
 * own, and with it an IPVS table nothing else touches, deleted with it at the end.
 */

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runThroughSlowReader, writeManyServices } from "../cli/support/slow-pipe.ts";
import { IpvsNamespace, requireLab } from "./support/index.ts";

const SERVICES = 500;
const VIP = "10.202.0.1";
const PIPE_BUFFER = 64 * 1024;

setDefaultTimeout(180_000);

let dir: string;
let config: string;
let namespace: IpvsNamespace | undefined;

beforeAll(() => {
  requireLab();
  namespace = IpvsNamespace.create();
  dir = mkdtempSync(join(tmpdir(), "lbctl-lab-output-"));
  const services = Array.from({ length: SERVICES }, (_, i) => `  - name: svc-${i}\n    ports: [${1000 + i}]\n    backends:\n      - address: 10.0.${Math.floor(i / 250)}.${(i % 250) + 1}\n`);
  config = writeManyServices(dir, 1, () => `services:\n${services.join("")}`);
  writeFileSync(config, `node: { name: lab }\nnetwork:\n  frontend:\n    vip: ${VIP}\nsystem:\n  state_dir: ${join(dir, "state")}\ndaemon:\n  socket: ${join(dir, "lbctl.sock")}\n`);
});

afterAll(() => {
  namespace?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** lbctl through a slow reader, inside the file's namespace. */
const slowly = (args: string[]) => runThroughSlowReader(args, "stdout", {}, namespace!.lbctlCommand());
const ipvsadmSave = () => namespace!.ipvsadmSave();

describe("apply --json of 500 services through a slow pipe", () => {
  test("--dry-run: every one of the 1,000 planned changes, and the kernel untouched", async () => {
    const run = await slowly(["apply", "--dry-run", "--json", "--config", config]);
    expect(run.text.length).toBeGreaterThan(PIPE_BUFFER);
    const body = JSON.parse(run.text);
    expect(body.applied).toBe(false);
    expect(body.changes).toHaveLength(2 * SERVICES);
    expect(run.exitCode).toBe(0);
    expect(ipvsadmSave()).toEqual([]);
  });

  test("apply: the whole object, and ipvsadm -Sn holds what it lists", async () => {
    const run = await slowly(["apply", "--json", "--config", config]);
    const body = JSON.parse(run.text);
    expect(body.applied).toBe(true);
    expect(body.changes).toHaveLength(2 * SERVICES);
    expect(run.exitCode).toBe(0);
    const rules = ipvsadmSave();
    expect(rules.filter((line) => line.startsWith("-A "))).toHaveLength(SERVICES);
    expect(rules.filter((line) => line.startsWith("-a "))).toHaveLength(SERVICES);
    const created = new Set(body.changes.filter((c: { op: string }) => c.op === "create-service").map((c: { service: string }) => c.service));
    expect(created.has(`tcp:${VIP}:${1000 + SERVICES - 1}`)).toBe(true);
  });

  test("status --json: every service, none missing", async () => {
    const run = await slowly(["status", "--json", "--config", config]);
    const view = JSON.parse(run.text);
    expect(view.services).toHaveLength(SERVICES);
    expect(view.services.filter((s: { missing: boolean }) => s.missing)).toEqual([]);
    expect(run.exitCode).toBe(0);
  });
});
