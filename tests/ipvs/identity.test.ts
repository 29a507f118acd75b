import { expect, test } from "bun:test";
import { formatDestinationKey, formatEndpoint, formatServiceKey } from "../../src/ipvs/identity.ts";

test.each([
  [{ family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 }, "tcp:192.0.2.10:80"],
  [{ family: 6, protocol: "udp", address: "2001:db8::1", port: 53 }, "udp:[2001:db8::1]:53"],
  [{ family: 4, protocol: "sctp", address: "192.0.2.10", port: 3868 }, "sctp:192.0.2.10:3868"],
  [{ family: 4, protocol: "tcp", address: "", port: 0, fwmark: 42 }, "fwmark:42"],
  [{ family: 6, protocol: "tcp", address: "", port: 0, fwmark: 7 }, "fwmark6:7"],
] as const)("service %o is %s", (service, expected) => {
  expect(formatServiceKey(service)).toBe(expected);
});

test("destinations and endpoints", () => {
  expect(formatDestinationKey({ address: "10.0.0.10", port: 80 })).toBe("10.0.0.10:80");
  expect(formatDestinationKey({ address: "2001:db8::2", port: 80 })).toBe("[2001:db8::2]:80");
  expect(formatEndpoint("10.0.0.1", 0)).toBe("10.0.0.1:0");
});
