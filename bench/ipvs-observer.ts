/**
 * An observer of the kernel's IPVS table that shares nothing with lbctl: a separate process that reads
 * /proc/net/ip_vs about every millisecond and prints, each time the weights of one backend change, a JSON line
 * `{"t":<epoch ms>,"total":N,"zero":Z}` (its destinations, and how many have weight 0). On SIGTERM it prints
 * `{"polls":N,"ms":M}`, from which the caller knows its resolution. Used by bench/failover-latency.ts (P3):
 *
 *   bun bench/ipvs-observer.ts ADDRESS PORT
 *
 * Reading the proc file costs about 0.3 ms in the emulated guest; spawning `ipvsadm -Ln` costs about 270 ms there,
 * too coarse for a 100 ms target.
 */

import { readFileSync } from "node:fs";
import { parseProcIpVs, weightsOf } from "./ip-vs-proc.ts";

const [address, portText] = process.argv.slice(2);
const port = Number(portText);
if (!address || !Number.isInteger(port)) throw new Error("Usage: bun bench/ipvs-observer.ts ADDRESS PORT");

let polls = 0;
let running = true;
const started = performance.now();
process.on("SIGTERM", () => {
  running = false;
});

let last = "";
while (running) {
  const { total, zero } = weightsOf(parseProcIpVs(readFileSync("/proc/net/ip_vs", "utf8")), address, port);
  const t = Date.now();
  polls++;
  const state = `${total}/${zero}`;
  if (state !== last) {
    last = state;
    await Bun.write(Bun.stdout, `${JSON.stringify({ t, total, zero })}\n`);
  }
  await Bun.sleep(1);
}
await Bun.write(Bun.stdout, `${JSON.stringify({ polls, ms: performance.now() - started })}\n`);
process.exit(0);
