/** The FRR managed block (golden text, milliseconds), and replacing it with every byte outside the markers kept. */

import { describe, expect, test } from "bun:test";
import { frrBlockFor, FrrConfigError, renderFrrBlock, vrrpPlan } from "../../src/system/frr/block.ts";
import { currentBlock, replaceManagedBlock } from "../../src/system/frr/managed-block.ts";
import { testConfig } from "./support/config.ts";

const GOLDEN = `! BEGIN LBCTL MANAGED - DO NOT EDIT
! Written by \`lbctl setup frr\` for node lb-b (role secondary); edit the lbctl config and rerun it.
interface eth0
 vrrp 50 version 3
 vrrp 50 priority 100
 vrrp 50 advertisement-interval 250
 vrrp 50 ip 192.0.2.10
 vrrp 50 ip 192.0.2.20
 vrrp 50 ipv6 2001:db8::10
exit
! END LBCTL MANAGED
`;

describe("FRR block", () => {
  test("secondary priority, the interval in milliseconds (not centiseconds), ip and ipv6 lines", () => {
    const config = testConfig({
      main: { node: { name: "lb-b", role: "secondary" }, vrrp: { vrid: 50, advert_interval_ms: 250 } },
      services: [
        { name: "a", ports: [80], vip: "192.0.2.20" },
        { name: "b", ports: [80], vip: "2001:db8::10" },
      ],
    });
    expect(frrBlockFor(config)).toBe(GOLDEN);
  });

  test("the primary gets priority_primary; the default interval is 1000 ms", () => {
    const plan = vrrpPlan(testConfig({ main: { vrrp: { vrid: 7, priority_primary: 200 } } }))!;
    expect(plan).toMatchObject({ priority: 200, advertIntervalMs: 1000, ipv4: ["192.0.2.10"], ipv6: [] });
    expect(renderFrrBlock(plan, "lb-a", "primary")).toContain(" vrrp 7 advertisement-interval 1000\n");
  });

  test("no vrrp section: no block; vrrp without a frontend interface: an error naming the key", () => {
    expect(frrBlockFor(testConfig({}))).toBeUndefined();
    const config = testConfig({ main: { vrrp: { vrid: 1 } }, frontendInterface: null });
    expect(() => vrrpPlan(config)).toThrow(FrrConfigError);
    expect(() => vrrpPlan(config)).toThrow("network.frontend.interface is required");
  });
});

describe("managed block in the operator's file", () => {
  const block = "! BEGIN LBCTL MANAGED - DO NOT EDIT\nnew\n! END LBCTL MANAGED\n";

  test("replaced in place, bytes before and after kept exactly (CRLF, no final newline, trailing spaces)", () => {
    const before = "frr defaults traditional\r\nhostname a  \n!\n";
    const after = "router bgp 65000\n neighbor 10.0.0.1 remote-as 65001\nexit";
    const text = `${before}! BEGIN LBCTL MANAGED - DO NOT EDIT\nold\nlines\n! END LBCTL MANAGED\n${after}`;
    expect(replaceManagedBlock(text, block, "frr.conf")).toBe(`${before}${block}${after}`);
  });

  test("appended when absent (a newline added only if the file lacks one), and idempotent", () => {
    expect(replaceManagedBlock("", block, "f")).toBe(block);
    expect(replaceManagedBlock("log syslog", block, "f")).toBe(`log syslog\n${block}`);
    const once = replaceManagedBlock("log syslog\n", block, "f");
    expect(once).toBe(`log syslog\n${block}`);
    expect(replaceManagedBlock(once, block, "f")).toBe(once);
    expect(currentBlock(once, "f")).toBe(block);
  });

  test.each([
    ["a begin without an end", "x\n! BEGIN LBCTL MANAGED - DO NOT EDIT\ny\n", 'frr.conf: line 2 has "! BEGIN LBCTL MANAGED - DO NOT EDIT" without'],
    ["an end without a begin", "! END LBCTL MANAGED\n", 'frr.conf: line 1 has "! END LBCTL MANAGED" without'],
    ["two blocks", `${block}${block}`, "frr.conf has 2 begin and 2 end markers"],
    ["the end before the begin", "! END LBCTL MANAGED\n! BEGIN LBCTL MANAGED - DO NOT EDIT\n", "comes before"],
  ])("broken markers are an error naming the file and line: %s", (_name, text, message) => {
    expect(() => replaceManagedBlock(text, block, "frr.conf")).toThrow(message);
  });
});
