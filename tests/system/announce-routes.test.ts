import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { decodeRoutes, encodeGetRoutes, encodeRouteChange } from "../../src/system/rtnetlink/routes.ts";
import { decodeAcknowledgement } from "../../src/system/rtnetlink/dump.ts";
import { message, u32 } from "./support/netlink-message.ts";


/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags. */
const rtmsg = (family: number, prefix: number, table: number, protocol: number, type: number) => [family, prefix, 0, 0, table, protocol, 0, type, 0, 0, 0, 0];
const ROUTE = 24;
const V6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x10];

describe("route messages", () => {
  test("a replace is an acknowledged, creating RTM_NEWROUTE of a /32 host route on lo in the right table", () => {
    const bytes = encodeRouteChange({ vip: "192.0.2.10", table: "main", operation: "replace", protocol: 250 }, 7, 42);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, true)).toBe(bytes.length);
    expect(view.getUint16(4, true)).toBe(24);
    expect(view.getUint16(6, true)).toBe(0x1 | 0x4 | 0x100 | 0x400);
    expect(view.getUint32(8, true)).toBe(7);
    // family, /32, table main, protocol 250, scope link, unicast
    expect([...bytes.subarray(16, 24)]).toEqual([2, 32, 0, 0, 254, 250, 253, 1]);
    // RTA_DST 192.0.2.10, RTA_OIF 1 (lo), RTA_TABLE 254
    expect([...bytes.subarray(28)]).toEqual([8, 0, 1, 0, 192, 0, 2, 10, 8, 0, 4, 0, ...u32(1), 8, 0, 15, 0, ...u32(254)]);
  });

  test("a local route is type local, scope host, in the local table; a delete carries no create flags", () => {
    const add = encodeRouteChange({ vip: "2001:db8::10", table: "local", operation: "replace", protocol: 250 }, 1, 0);
    expect([...add.subarray(16, 24)]).toEqual([10, 128, 0, 0, 255, 250, 254, 2]);
    expect([...add.subarray(32, 48)]).toEqual(V6);
    const del = encodeRouteChange({ vip: "192.0.2.10", table: "main", operation: "delete", protocol: 250 }, 1, 0);
    expect(new DataView(del.buffer).getUint16(4, true)).toBe(25);
    expect(new DataView(del.buffer).getUint16(6, true)).toBe(0x1 | 0x4);
    expect(del[16 + 6]).toBe(255); // a unicast delete matches any scope
    expect(() => encodeRouteChange({ vip: "not-an-ip", table: "main", operation: "delete", protocol: 250 }, 1, 0)).toThrow(/not an IP address/);
  });

  test("the dump asks the kernel to filter by lbctl's protocol", () => {
    const bytes = encodeGetRoutes(250, 3, 9);
    expect(new DataView(bytes.buffer).getUint16(4, true)).toBe(26);
    expect([...bytes.subarray(16)]).toEqual([0, 0, 0, 0, 0, 250, 0, 0, 0, 0, 0, 0]);
  });

  test("only lbctl's host routes of the right type count; RTA_TABLE wins over the header's table", () => {
    const datagram = new Uint8Array([
      ...message(ROUTE, 5, rtmsg(2, 32, 254, 250, 1), [[1, [192, 0, 2, 10]]]),
      ...message(ROUTE, 5, rtmsg(2, 32, 254, 186, 1), [[1, [192, 0, 2, 11]]]), // FRR's (bgp) route
      ...message(ROUTE, 5, rtmsg(2, 24, 254, 250, 1), [[1, [192, 0, 2, 0]]]), // not a host route
      ...message(ROUTE, 5, rtmsg(2, 32, 252, 250, 1), [[1, [192, 0, 2, 12]], [15, u32(254)]]), // table in RTA_TABLE
      ...message(ROUTE, 5, rtmsg(2, 32, 100, 250, 1), [[1, [192, 0, 2, 13]], [15, u32(100)]]), // another table
      ...message(ROUTE, 5, rtmsg(2, 32, 255, 250, 2), [[1, [192, 0, 2, 10]], [15, u32(255)]]),
      ...message(ROUTE, 5, rtmsg(2, 32, 255, 250, 1), [[1, [192, 0, 2, 14]], [15, u32(255)]]), // unicast in local: no
      ...message(ROUTE, 5, rtmsg(10, 128, 255, 250, 2), [[1, V6], [15, u32(255)]]),
      ...message(ROUTE, 6, rtmsg(2, 32, 254, 250, 1), [[1, [192, 0, 2, 15]]]), // another request's answer
    ]);
    expect(decodeRoutes(datagram, 5, 250)).toEqual({ main: ["192.0.2.10", "192.0.2.12"], local: ["192.0.2.10", "2001:db8::10"], done: false });
    expect(decodeRoutes(new Uint8Array(message(3, 5, [0, 0, 0, 0])), 5, 250).done).toBe(true);
  });

  test("an acknowledgement gives the kernel's errno; a truncated route message is an error, not a misread", () => {
    expect(decodeAcknowledgement(new Uint8Array(message(2, 8, [...u32(-3 >>> 0), ...new Array(16).fill(0)])), 8)).toBe(3);
    expect(decodeAcknowledgement(new Uint8Array(message(2, 8, u32(0))), 8)).toBe(0);
    expect(decodeAcknowledgement(new Uint8Array(message(2, 9, u32(0))), 8)).toBeUndefined();
    const bytes = new Uint8Array(message(ROUTE, 5, rtmsg(2, 32, 254, 250, 1), [[1, [192, 0, 2, 10]]]));
    expect(() => decodeRoutes(bytes.subarray(0, bytes.length - 2), 5, 250)).toThrow();
  });
});

const namespaces = (() => {
  if (process.getuid?.() !== 0) return "needs root for a network namespace (unshare -n)";
  if (Bun.spawnSync(["sh", "-c", "command -v unshare && command -v ip"], { stdout: "pipe" }).exitCode !== 0) return "needs unshare and ip";
  return undefined;
})();

test.skipIf(namespaces !== undefined)(`the kernel's routes, checked with ip in a network namespace${namespaces ? ` (${namespaces})` : ""}`, () => {
  const run = Bun.spawnSync(["unshare", "-n", process.execPath, join(import.meta.dir, "support/announce-routes-scenario.ts")], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(run.exitCode).toBe(0);
  const { steps, byIp, foreign, refused, foreignAfter } = JSON.parse(run.stdout.toString());
  expect(steps.empty).toEqual({ main: [], local: [], ip: [] });
  expect(steps.announced).toEqual({
    main: ["192.0.2.10", "2001:db8::10"],
    local: ["192.0.2.10", "2001:db8::10"],
    ip: byIp,
  });
  expect(byIp).toContain("local 192.0.2.10 local host lo");
  expect(byIp).toContain("unicast 192.0.2.10 main link lo");
  expect(byIp).toHaveLength(4);
  expect(steps.withdrawn.main).toEqual(["2001:db8::10"]);
  expect(steps.withdrawn.local).toEqual(["192.0.2.10", "2001:db8::10"]);
  expect(refused).toBe("");
  expect(foreignAfter).toEqual(foreign);
  expect(foreign).toHaveLength(2);
  expect(steps.cleared).toEqual({ main: [], local: [], ip: [] });
});
