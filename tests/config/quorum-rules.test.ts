/** quorum, quorum_hysteresis, sorry_server and health.slow_start_seconds: what loads, and every refusal located. */

import { describe, expect, test } from "bun:test";
import { loadPatched, service } from "../support/load-helpers.ts";

const ok = (patch: Record<string, unknown>, main: Record<string, unknown> = {}) => {
  const { result, errors } = loadPatched(main, [service(patch)]);
  expect(errors).toBe("");
  return result.ok ? result.config.services[0]! : undefined;
};

describe("sorry_server", () => {
  test.each([
    ["10.0.0.99:8080", { address: "10.0.0.99", port: 8080 }],
    ["10.0.0.99", { address: "10.0.0.99", port: 0 }],
  ])("%s", (text, parsed) => {
    expect(ok({ sorry_server: text })?.sorry_server).toEqual(parsed);
  });

  test("IPv6 with and without brackets", () => {
    const main = { network: { frontend: { vip: "2001:db8::10" } } };
    const v6 = (sorry: string) => ok({ backends: [{ address: "2001:db8::1" }], sorry_server: sorry }, main)?.sorry_server;
    expect(v6("[2001:db8::99]:8080")).toEqual({ address: "2001:db8::99", port: 8080 });
    expect(v6("2001:DB8::99")).toEqual({ address: "2001:db8::99", port: 0 });
  });

  test.each([
    [{ sorry_server: "nowhere:80" }, "services[0].sorry_server", "must be ADDR:PORT"],
    [{ sorry_server: "10.0.0.99:70000" }, "services[0].sorry_server", "must be ADDR:PORT"],
    [{ sorry_server: "2001:db8::99" }, "services[0].sorry_server", "is IPv6 but the service's VIP is IPv4"],
    [{ sorry_server: "10.0.0.1" }, "services[0].sorry_server", "10.0.0.1:80 is also services[0].backends[0]"],
    [{ mode: "dr", sorry_server: "10.0.0.99:8080" }, "services[0].sorry_server", "must have no port, or the service's port, with mode dr"],
    [{ quorum: 2, quorum_hysteresis: 2 }, "services[0].quorum_hysteresis", "must be less than quorum (2), got 2"],
    [{ quorum: 0 }, "services[0].quorum", "must be an integer"],
  ])("%o is refused at %s", (patch, path, message) => {
    const { result, errors, paths } = loadPatched({}, [service(patch)]);
    expect(result.ok).toBe(false);
    expect(paths).toContain(path);
    expect(errors).toContain(message);
  });
});

test("quorum alone loads (tracking without a sorry server); slow_start_seconds is bounded", () => {
  expect(ok({ quorum: 3, quorum_hysteresis: 1 })).toMatchObject({ quorum: 3, quorum_hysteresis: 1 });
  expect(ok({ health: { slow_start_seconds: 30 } })?.health.slow_start_seconds).toBe(30);
  const { errors } = loadPatched({}, [service({ health: { slow_start_seconds: 7200 } })]);
  expect(errors).toContain("services[0].health.slow_start_seconds");
});
