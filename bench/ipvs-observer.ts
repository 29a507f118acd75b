/**
 * An observer of the kernel's IPVS table that shares nothing with lbctl: a separate process that reads
 * /proc/net/ip_vs about every millisecond and prints, each time the weights of one backend change, a JSON line
 * `{"t":<epoch ms>,"since":<epoch ms>,"total":N,"zero":Z}`: its destinations and how many have weight 0, read at t,
 * and the time of the read before, which did not show it yet (so the change happened between the two). On SIGTERM
 * it prints `{"polls":N,"ms":M,"maxGapMs":G}`, from which the caller knows its resolution. Used by bench/failover-latency.ts (P3):
 *
 *   bun bench/ipvs-observer.ts ADDRESS PORT
 *
 * Reading the proc file is cheap; spawning `ipvsadm -Ln` for each read is a process start per read, too coarse in
 * the emulated guest for a 100 ms target.
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
let previousRead = Date.now();
let maxGapMs = 0;
while (running) {
  const readAt = Date.now();
  const { total, zero } = weightsOf(parseProcIpVs(readFileSync("/proc/net/ip_vs", "utf8")), address, port);
  const t = Date.now();
  polls++;
  maxGapMs = Math.max(maxGapMs, t - previousRead);
  const state = `${total}/${zero}`;
  if (state !== last) {
    last = state;
    await Bun.write(Bun.stdout, `${JSON.stringify({ t, since: previousRead, total, zero })}\n`);
  }
  previousRead = readAt;
  await Bun.sleep(1);
}
await Bun.write(Bun.stdout, `${JSON.stringify({ polls, ms: performance.now() - started, maxGapMs })}\n`);
process.exit(0);
