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

const ACK_FLAG = 0x04;
/** As the kernel answers: an acknowledgement only when asked for one, an error always. */
const kernelAck = (request: SentRequest, errno = 0) => (errno !== 0 || request.flags & ACK_FLAG ? [ack(request.seq, errno)] : []);

/** Index of a request in its batch, from its sequence number relative to the batch's first. */
const indexOf = (fake: FakeTransport, request: SentRequest) => request.seq - (fake.requests[0]?.seq ?? 0);

describe("execute", () => {
  test("an empty batch sends nothing", () => {
    const fake = new FakeTransport(eachRequest(() => []));
    expect(createIpvsClient(fake).execute([])).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(0);
    expect(fake.familyLookups).toBe(0);
  });

  test("2,000 requests: consecutive sequence numbers, up to the window per send, an acknowledgement asked only of each send's last", () => {
    const fake = new FakeTransport(eachRequest((request) => (request.flags & ACK_FLAG ? [[ack(request.seq)]] : [])));
    const result = createIpvsClient(fake, { window: 64 }).execute(operations(2000));
    expect(result).toEqual({ ok: true });
    expect(fake.requests).toHaveLength(2000);
    const first = fake.requests[0]?.seq ?? 0;
    fake.requests.forEach((request, i) => {
      expect(request.seq).toBe((first + i) >>> 0);
      expect(request.flags).toBe(i % 64 === 63 || i === 1999 ? 0x05 : 0x01);
      expect(request.pid).toBe(4242);
      expect(request.type).toBe(32);
    });
    expect(fake.sends).toEqual([...Array(31).fill(64), 16]);
    expect(fake.maxQueued).toBe(1);
  });

  test("a refusal in the middle of a send, with later successes in that send: succeeded is exact, no further send", () => {
    // Errors come before the final acknowledgement, in request order, one datagram each, as the kernel sends them.
    const fake: FakeTransport = new FakeTransport(eachRequest((request) => kernelAck(request, indexOf(fake, request) === 5 ? 17 : 0).map((m) => [m])));
    const result = createIpvsClient(fake, { window: 4 }).execute(operations(10));
    // Sends: [0..3], then [4..7]; 5 fails, 4, 6 and 7 were in the same send and accepted, 8 and 9 never leave.
    expect(fake.sends).toEqual([4, 4]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedIndex).toBe(5);
    expect(result.succeeded).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(result.error).toBeInstanceOf(NetlinkError);
    expect(result.error.message).toBe("Kernel refused create-service tcp:192.0.2.5:1005: service already exists");
  });

  test("the last request of a send refused: its error stands for the acknowledgement", () => {
    const fake: FakeTransport = new FakeTransport(eachRequest((request) => kernelAck(request, indexOf(fake, request) === 7 ? 2 : 0).map((m) => [m])));
    const result = createIpvsClient(fake, { window: 8 }).execute(operations(20));
    expect(fake.sends).toEqual([8]);
    expect(result).toMatchObject({ ok: false, failedIndex: 7, succeeded: [0, 1, 2, 3, 4, 5, 6] });
    if (result.ok) return;
    expect(result.error.message).toContain("scheduler 'rr' is not available: load kernel module ip_vs_rr (this kernel may not ship it)");
  });

  test("two refusals in one send: the first one is reported", () => {
    const fake: FakeTransport = new FakeTransport((requests) => [
      requests.flatMap((r) => kernelAck(r, indexOf(fake, r) === 7 ? 22 : indexOf(fake, r) === 3 ? 17 : 0)),
    ]);
    const result = createIpvsClient(fake, { window: 8 }).execute(operations(8));
    expect(result).toMatchObject({ ok: false, failedIndex: 3, succeeded: [0, 1, 2, 4, 5, 6] });
  });

  test("stale and duplicate acknowledgements are ignored", () => {
    const fake = new FakeTransport(eachRequest((r) => (r.flags & ACK_FLAG ? [[ack(r.seq - 1000), ack(r.seq), ack(r.seq, 17)]] : [[ack(r.seq - 1000)]])));
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

  test("a socket failure mid-batch reports the first request of the send without a verdict", () => {
    const fake = new FakeTransport(eachRequest((r) => (r.flags & ACK_FLAG ? [[ack(r.seq)]] : [])));
    const client = createIpvsClient(fake, { window: 4 });
    let receives = 0;
    const receive = fake.receive.bind(fake);
    fake.receive = () => {
      if (++receives === 2) throw new TransportError("Netlink receive queue overflowed");
      return receive();
    };
    const result = client.execute(operations(20));
    expect(result).toMatchObject({ ok: false, failedIndex: 4, succeeded: [0, 1, 2, 3] });
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(TransportError);
  });
});
