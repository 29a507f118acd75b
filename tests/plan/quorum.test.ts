/** Quorum with hysteresis, pure (keepalived's quorum/hysteresis semantics), and the sorry server in the desired state. */

import { describe, expect, test } from "bun:test";
import { liveWeight, quorumRule, quorumUp } from "../../src/plan/quorum.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import { configFrom, service } from "../support/load-helpers.ts";

describe("quorumUp", () => {
  const rule = { quorum: 4, hysteresis: 1 };
  test("first evaluation: up at the quorum, no hysteresis", () => {
    expect(quorumUp(undefined, 4, rule)).toBe(true);
    expect(quorumUp(undefined, 3, rule)).toBe(false);
  });
  test("lost below quorum - hysteresis, regained at quorum + hysteresis", () => {
    expect(quorumUp(true, 3, rule)).toBe(true);
    expect(quorumUp(true, 2, rule)).toBe(false);
    expect(quorumUp(false, 4, rule)).toBe(false);
    expect(quorumUp(false, 5, rule)).toBe(true);
  });
  test("a sequence of live weights flaps only across the band", () => {
    let up: boolean | undefined;
    const states = [6, 3, 2, 3, 4, 5, 4, 3, 2].map((live) => (up = quorumUp(up, live, rule)));
    expect(states).toEqual([true, true, false, false, false, true, true, true, false]);
  });
});

test("rule: none without quorum or sorry_server; quorum 1 by default with a sorry server", () => {
  expect(quorumRule({})).toBeUndefined();
  expect(quorumRule({ sorry_server: { address: "10.0.0.9", port: 0 } })).toEqual({ quorum: 1, hysteresis: 0 });
  expect(quorumRule({ quorum: 3, quorum_hysteresis: 1 })).toEqual({ quorum: 3, hysteresis: 1 });
});

test("live weight: numbers as they are, an adopted backend at its configured weight", () => {
  expect(liveWeight([{ weight: 0, configured: 5 }, { weight: 3, configured: 5 }, { weight: "kernel", configured: 2 }])).toBe(5);
});

test("the sorry server is a destination on every port only when asked", () => {
  const config = configFrom({}, [service({ ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 3 }], sorry_server: "10.0.0.99:8080" })]);
  const ids = (sorry: boolean) => desiredServices(config, { sorryServer: () => sorry }).map((s) => s.destinations.map((d) => `${s.port}>${d.id}:${d.weight}${d.sorry ? ":sorry" : ""}`));
  expect(ids(false)).toEqual([["80>10.0.0.1:80:3"], ["443>10.0.0.1:443:3"]]);
  expect(ids(true)).toEqual([
    ["80>10.0.0.1:80:3", "80>10.0.0.99:8080:1:sorry"],
    ["443>10.0.0.1:443:3", "443>10.0.0.99:8080:1:sorry"],
  ]);
  const samePort = configFrom({}, [service({ ports: [80, 443], sorry_server: "10.0.0.99" })]);
  expect(desiredServices(samePort, { sorryServer: () => true }).map((s) => s.destinations[1]!.id)).toEqual(["10.0.0.99:80", "10.0.0.99:443"]);
});
