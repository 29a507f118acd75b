/** Snapshots (plan/snapshot.ts, system/snapshots.ts): taken from a table, stored, read back, restored through the planner. */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reconcile } from "../../src/plan/reconcile.ts";
import { parseSnapshot, snapshotDesired, takeSnapshot } from "../../src/plan/snapshot.ts";
import { listSnapshotIds, newSnapshotId, readSnapshotText, snapshotFolder, writeSnapshot } from "../../src/system/snapshots.ts";
import { FakeKernel, foreignService } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const VIPS = new Set(["192.0.2.10"]);
const meta = { id: "20260601T120000.000Z-manual", createdAt: new Date(Date.UTC(2026, 5, 1, 12)), reason: "manual" as const, node: "lb-a" };

function programmed(): FakeKernel {
  const kernel = new FakeKernel();
  const config = configFrom({}, [
    service({ name: "web", ports: [80, 443], persistence: { timeout_seconds: 120 }, backends: [{ address: "10.0.0.1", weight: 3 }, { address: "10.0.0.2" }] }),
    service({ name: "dns", protocol: "udp", ports: [53], mode: "dr", scheduler: "rr", backends: [{ address: "10.0.0.9" }] }),
  ]);
  expect(reconcile({ config, client: kernel, managedVips: VIPS }).kind).toBe("applied");
  // Someone else's service on another address: not lbctl's, never in a snapshot, never touched by a restore.
  kernel.addForeign(foreignService("198.51.100.1", 25));
  return kernel;
}

let folder: string | undefined;
afterEach(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = undefined;
});

describe("snapshots", () => {
  test("hold the managed services only, survive JSON, and a restore through the planner brings the table back", () => {
    const kernel = programmed();
    const before = kernel.rules();
    const snapshot = parseSnapshot(JSON.parse(JSON.stringify(takeSnapshot(kernel.dump(), VIPS, meta))), "test");
    expect(snapshot.services.map((s) => s.service)).toEqual(["tcp:192.0.2.10:443", "tcp:192.0.2.10:80", "udp:192.0.2.10:53"]);
    expect(snapshot.services[1]).toMatchObject({ flags: 1, persistence_timeout: 120, destinations: [{ destination: "10.0.0.1:80", weight: 3, forward: "nat" }, { destination: "10.0.0.2:80" }] });

    // A bad change: a service gone, a weight changed, a stray service added on the VIP.
    const broken = configFrom({}, [service({ name: "web", ports: [80], backends: [{ address: "10.0.0.1", weight: 9 }] }), service({ name: "x", ports: [8080] })]);
    expect(reconcile({ config: broken, client: kernel, managedVips: VIPS }).kind).toBe("applied");
    expect(kernel.rules()).not.toEqual(before);

    const restore = (dryRun: boolean, limits?: { max_services_deleted: number; max_destinations_deleted: number }) =>
      reconcile({ config: broken, client: kernel, managedVips: VIPS, desired: snapshotDesired(snapshot), dryRun, ...(limits ? { limits } : {}) });
    const dry = restore(true);
    expect(dry.kind).toBe("planned");
    expect(dry.plan.changes.map((c) => c.op)).toContain("delete-service");
    expect(restore(false, { max_services_deleted: 0, max_destinations_deleted: 50 })).toMatchObject({ kind: "limit", limit: { name: "max_services_deleted", planned: 1 } });
    expect(restore(false).kind).toBe("applied");
    expect(kernel.rules()).toEqual(before);
    expect(kernel.rules()).toContain("-A tcp:198.51.100.1:25 -s rr");
  });

  test("a malformed snapshot is refused, naming the field", () => {
    const good = JSON.parse(JSON.stringify(takeSnapshot(programmed().dump(), VIPS, meta)));
    const cases: [string, (s: any) => void, RegExp][] = [
      ["version", (s) => (s.version = 2), /version must be 1/],
      ["weight", (s) => (s.services[0].destinations[0].weight = 70000), /services\[0\]\.destinations\[0\]\.weight must be an integer from 0 to 65535/],
      ["address", (s) => (s.services[0].address = "192.0.2.010"), /services\[0\]\.address must be a canonical IPv4 address/],
      ["service key", (s) => (s.services[0].port = 444), /services\[0\]\.service must be "tcp:192.0.2.10:444"/],
      ["forward", (s) => (s.services[0].destinations[0].forward = "local"), /forward must be nat, dr or tun/],
    ];
    for (const [, breakIt, message] of cases) {
      const copy = structuredClone(good);
      breakIt(copy);
      expect(() => parseSnapshot(copy, "snap.json")).toThrow(message);
    }
  });

  test("files: atomic, private, the last N kept, latest by id order, bounded and checked ids", () => {
    folder = mkdtempSync(join(tmpdir(), "lbctl-snap-"));
    const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, s));
    const ids: string[] = [];
    for (let s = 0; s < 5; s++) {
      const id = newSnapshotId(folder, at(s), "apply");
      ids.push(id);
      writeSnapshot(folder, id, `{"n":${s}}\n`, 3);
    }
    expect(listSnapshotIds(folder)).toEqual(ids.slice(2));
    expect(readdirSync(snapshotFolder(folder)).sort()).toEqual(ids.slice(2).map((id) => `${id}.json`));
    expect(statSync(join(snapshotFolder(folder), `${ids[4]}.json`)).mode & 0o777).toBe(0o600);
    expect(readSnapshotText(folder, "latest")).toMatchObject({ id: ids[4], text: '{"n":4}\n' });
    // Same millisecond, same reason: a distinct id.
    expect(newSnapshotId(folder, at(4), "apply")).toBe(`${ids[4]}-2`);
    expect(() => readSnapshotText(folder!, "../../etc/passwd")).toThrow(/not a snapshot id/);
    expect(() => readSnapshotText(folder!, "20990101T000000.000Z-manual")).toThrow(/No snapshot 20990101T000000.000Z-manual/);
    const huge = join(snapshotFolder(folder), "20990101T000000.000Z-manual.json");
    writeFileSync(huge, "");
    rmSync(huge);
  });
});
