/**
 * Encoding speed of IPVS requests: 20,000 NEW_DEST messages (200 services x 100 destinations) back to back into one
 * writer, as a batch does. "grouped" lists each service's destinations together, as a plan does; "interleaved" changes
 * service at every message (no reuse of the service key's bytes). Run: bun bench/ipvs-encode.ts [grouped|interleaved]
 *
 * Target: the median of the warm rounds ≤ 20 ms, 1 µs a message: encoding then stays a small part of a bulk apply
 * (P1) and never the reason a batch waits. The first, cold round (JIT warming up, as in a one-shot `lbctl apply`) is
 * reported beside it.
 */

import { type RequestHeader, encodeOperation } from "../src/ipvs/codec/requests.ts";
import { ServiceKeyEncoder } from "../src/ipvs/codec/service-key.ts";
import { MessageWriter } from "../src/ipvs/netlink/writer.ts";
import type { IpvsOperation } from "../src/ipvs/types.ts";
import { loadLine, median, report, row, startLoadMeter } from "./support.ts";

const COUNT = 20_000;
const ROUNDS = 15;
const TARGET_MS = 20;

const order = process.argv[2] === "interleaved" ? "interleaved" : "grouped";
const operations: IpvsOperation[] = [];
for (let i = 0; i < COUNT; i++) {
  const serviceIndex = order === "grouped" ? Math.floor(i / 100) : i % 200;
  const service = { family: 4 as const, protocol: "tcp" as const, address: `192.0.2.${serviceIndex}`, port: 80 };
  const destination = {
    family: 4 as const,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
    forward: "nat" as const,
    weight: 1 + (i % 10),
    upperThreshold: 0,
    lowerThreshold: 0,
  };
  operations.push({ kind: "new-destination", service, destination });
}

const writer = new MessageWriter(4 * 1024 * 1024);
const header: RequestHeader = { family: 32, seq: 0, port: 1234 };

function encodeAll(): number {
  writer.reset();
  const keys = new ServiceKeyEncoder(); // as the client encodes a batch
  for (let i = 0; i < COUNT; i++) {
    header.seq = i;
    encodeOperation(writer, header, operations[i] as IpvsOperation, keys);
  }
  return writer.length;
}

const timings: number[] = [];
let bytes = 0;
const meter = startLoadMeter();
for (let round = 0; round < ROUNDS; round++) {
  const start = Bun.nanoseconds();
  bytes = encodeAll();
  timings.push((Bun.nanoseconds() - start) / 1e6);
}
const { othersPct, loaded } = meter();
const warm = median(timings.slice(1));
const best = Math.min(...timings.slice(1));
const cold = timings[0]!;
const format = (ms: number) => `${ms.toFixed(2)} ms`;
console.log(`encode ${COUNT} NEW_DEST, ${order} (${bytes} bytes, ${(bytes / COUNT).toFixed(0)} B each), ${ROUNDS} rounds`);
console.log(row("E1 warm rounds, median", `${format(warm)} (best ${format(best)})`, `≤ ${TARGET_MS} ms`, warm <= TARGET_MS));
console.log(row("E1 first round (cold JIT)", format(cold), "-", true));
console.log(loadLine(othersPct));
const common = { id: "E1", what: `encode ${COUNT.toLocaleString("en")} NEW_DEST requests into one buffer, ${order}`, where: "host" as const, bench: "ipvs-encode", unit: "ms", loaded };
report({ ...common, name: `median of ${ROUNDS - 1} warm rounds`, target: `≤ ${TARGET_MS} ms (1 µs a message)`, measured: `${warm.toFixed(1)} ms`, value: warm, ok: warm <= TARGET_MS });
report({ ...common, name: "first round, cold JIT", measured: `${cold.toFixed(0)} ms`, value: cold, ok: true });
