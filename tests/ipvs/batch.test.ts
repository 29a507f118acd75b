import { describe, expect, test } from "bun:test";
import { createIpvsClient } from "../../src/ipvs/client.ts";
import { EncodeError, NetlinkError, TransportError } from "../../src/ipvs/errors.ts";
import type { IpvsOperation, ServiceSpec } from "../../src/ipvs/types.ts";
import { ack } from "./support/bytes.ts";
import { FakeTransport, type SentRequest, eachRequest } from "./support/fake-transport.ts";

function newService(index: number): IpvsOperation {
  const service: ServiceSpec = {
    family: 4,
    protocol: "tcp",
    address: `192.0.2.${index % 250}`,
    port: 1000 + index,
    scheduler: "rr",
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    persistenceEngine: "",
  };
  return { kind: "new-service", service };
}

const operations = (count: number) => Array.from({ length: count }, (_, i) => newService(i));

/** Index of a request in its batch, from its sequence number relative to the batch's first. */
const indexOf = (fake: FakeTransport, request: SentRequest) => request.seq - (fake.requests[0]?.seq ?? 0);

describe("execute", () => {
  test("an empty batch sends nothing", () => {
    const fake = new FakeTransport(eachRequest(() => []));
    expect(createIpvsClient(fake).execute([])).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(0);
    expect(fake.familyLookups).toBe(0);
  });

  test("2,000 requests: consecutive sequence numbers, NLM_F_ACK, many per send, never more than the window in flight", () => {
    const fake = new FakeTransport(eachRequest((request) => [[ack(request.seq)]]));
    const result = createIpvsClient(fake, { window: 64 }).execute(operations(2000));
    expect(result).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(2000);
    const first = fake.requests[0]?.seq ?? 0;
    fake.requests.forEach((request, i) => {
      expect(request.seq).toBe((first + i) >>> 0);
      expect(request.flags).toBe(0x05);
      expect(request.pid).toBe(4242);
      expect(request.type).toBe(32);
    });
    expect(fake.maxQueued).toBeLessThanOrEqual(64);
    expect(fake.sends.length).toBeLessThan(100);
    expect(Math.max(...fake.sends)).toBeGreaterThan(1);
  });

  test("acknowledgements out of order within a datagram, a refusal in the middle with later successes", () => {
    // One datagram per send, acknowledgements reversed; request 5 is refused (EEXIST).
    const fake: FakeTransport = new FakeTransport((requests) => [
      requests.map((request) => ack(request.seq, indexOf(fake, request) === 5 ? 17 : 0)).reverse(),
    ]);
    const result = createIpvsClient(fake, { window: 4 }).execute(operations(10));
    // Sends: [0..3], then [4..7]; 5 fails, 4, 6 and 7 were already sent and accepted, 8 and 9 never leave.
    expect(fake.sends).toEqual([4, 4]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedIndex).toBe(5);
    expect(result.succeeded).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(result.error).toBeInstanceOf(NetlinkError);
    expect(result.error.message).toBe("Kernel refused create-service tcp:192.0.2.5:1005: service already exists");
  });

  test("with a kernel-like transport (one acknowledgement per datagram) succeeded is exactly what was acknowledged", () => {
    const refused = new Set([37]);
    const fake: FakeTransport = new FakeTransport(
      eachRequest((request) => [[ack(request.seq, refused.has(indexOf(fake, request)) ? 2 : 0)]]),
    );
    const result = createIpvsClient(fake, { window: 16 }).execute(operations(100));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const acknowledged = fake.requests.map((r) => indexOf(fake, r)).filter((i) => !refused.has(i));
    expect(result.failedIndex).toBe(37);
    expect(result.succeeded).toEqual(acknowledged);
    expect(acknowledged.some((i) => i > 37)).toBe(true);
    expect(fake.requests.length).toBeLessThan(37 + 16 + 1);
    expect(result.error.message).toContain("scheduler 'rr' is not available: load kernel module ip_vs_rr (this kernel may not ship it)");
  });

  test("two refusals in flight: the first one is reported", () => {
    const fake: FakeTransport = new FakeTransport((requests) => [
      requests.map((r) => ack(r.seq, indexOf(fake, r) === 7 ? 22 : indexOf(fake, r) === 3 ? 17 : 0)).reverse(),
    ]);
    const result = createIpvsClient(fake, { window: 8 }).execute(operations(8));
    expect(result).toMatchObject({ ok: false, failedIndex: 3, succeeded: [0, 1, 2, 4, 5, 6] });
  });

  test("stale and duplicate acknowledgements are ignored", () => {
    const fake = new FakeTransport(eachRequest((r) => [[ack(r.seq - 1000), ack(r.seq), ack(r.seq, 17)]]));
    expect(createIpvsClient(fake, { window: 3 }).execute(operations(5))).toEqual({ ok: true });
  });

  test("an operation that cannot be encoded stops the batch before it is sent", () => {
    const ops = operations(6);
    ops[3] = { kind: "del-service", service: { family: 4, protocol: "tcp", address: "192.0.2.300", port: 80 } };
    const fake = new FakeTransport(eachRequest((r) => [[ack(r.seq)]]));
    const result = createIpvsClient(fake, { window: 64 }).execute(ops);
    expect(fake.requests).toHaveLength(3);
    expect(result).toMatchObject({ ok: false, failedIndex: 3, succeeded: [0, 1, 2] });
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(EncodeError);
    expect(result.error.message).toBe("Invalid delete-service tcp:192.0.2.300:80: address '192.0.2.300' is not an IPv4 address");
  });

  test("a socket failure mid-batch reports the first request without a verdict", () => {
    const fake = new FakeTransport(eachRequest((r) => [[ack(r.seq)]]));
    const client = createIpvsClient(fake, { window: 8 });
    let receives = 0;
    const receive = fake.receive.bind(fake);
    fake.receive = () => {
      if (++receives === 4) throw new TransportError("Netlink receive queue overflowed");
      return receive();
    };
    const result = client.execute(operations(20));
    expect(result).toMatchObject({ ok: false, failedIndex: 3, succeeded: [0, 1, 2] });
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(TransportError);
  });
});
