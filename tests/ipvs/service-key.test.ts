/** A batch's ServiceKeyEncoder writes the same bytes as encoding every key afresh, whatever the order of services. */

import { describe, expect, test } from "bun:test";
import { encodeOperation, type RequestHeader } from "../../src/ipvs/codec/requests.ts";
import { ServiceKeyEncoder } from "../../src/ipvs/codec/service-key.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import type { IpvsOperation } from "../../src/ipvs/types.ts";

const header: RequestHeader = { family: 32, seq: 0, port: 1234 };
const key = (address: string, port: number, family: 4 | 6 = 4) => ({ family, protocol: "tcp" as const, address, port });
const destination = (address: string, port: number, family: 4 | 6 = 4) => ({ address, port, family, forward: "nat" as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 });

const operations: IpvsOperation[] = [
  { kind: "new-destination", service: key("192.0.2.10", 80), destination: destination("10.0.0.1", 80) },
  { kind: "set-destination", service: key("192.0.2.10", 80), destination: destination("10.0.0.2", 80) },
  { kind: "del-destination", service: key("192.0.2.10", 443), destination: { address: "10.0.0.1", port: 443, family: 4 } },
  { kind: "new-destination", service: key("192.0.2.10", 80), destination: destination("10.0.0.3", 80) },
  { kind: "new-destination", service: key("2001:db8::10", 80, 6), destination: destination("2001:db8::1", 80, 6) },
  { kind: "del-service", service: key("2001:db8::10", 80, 6) },
  { kind: "del-service", service: { ...key("192.0.2.10", 80), protocol: "udp" } },
];

function encode(keys: ServiceKeyEncoder | undefined): number[] {
  const writer = new MessageWriter(64);
  operations.forEach((operation, seq) => encodeOperation(writer, { ...header, seq }, operation, keys));
  return [...writer.bytes()];
}

describe("service keys in a batch", () => {
  test("reused key bytes equal freshly encoded ones", () => {
    expect(encode(new ServiceKeyEncoder())).toEqual(encode(undefined));
  });
});
