/**
 * P6 (host): config replication latency, from the write of a service file on the primary to the secondary's
 * daemon having reloaded it (its `controlplane_update_applied` audit record, written after the reload), over
 * mutual TLS on loopback. Two lbctl daemons on the test-only memory kernel (LBCTL_TEST_MEMORY_KERNEL=1); 20 edits,
 * median and worst. The path: the primary's watch debounce (100 ms), validation, one TLS write, the secondary's
 * validation, journaled write and reload. Run: npm run bench (or bun bench/controlplane.ts; needs build/lbctl).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, makePki, Node, service } from "../tests/controlplane/support/pair.ts";
import { median, report, startLoadMeter } from "./support.ts";

process.env.LBCTL_BIN ??= join(import.meta.dir, "../build/lbctl");
const EDITS = 20;
const TARGET_MS = 1000;

const certs = mkdtempSync(join(tmpdir(), "lbctl-bench-cp-"));
await makePki(certs, ["lb-b"]);
const port = await freePort();
const primary = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key" });
const secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key" });
const applied = () => secondary.output.split("audit=controlplane_update_applied").length - 1;
try {
  primary.write("web.yaml", service("web", 80));
  primary.start();
  await eventually("the primary started", () => primary.output.includes("Control plane listening"), 30_000);
  secondary.start();
  await eventually("the first sync", () => applied() >= 1, 30_000);
  const meter = startLoadMeter();
  const latencies: number[] = [];
  for (let edit = 0; edit < EDITS; edit++) {
    const before = applied();
    const started = performance.now();
    primary.write("web.yaml", service("web", 1000 + edit));
    while (applied() === before) {
      if (performance.now() - started > 10_000) throw new Error(`edit ${edit} not applied on the secondary within 10 s`);
      await Bun.sleep(2);
    }
    latencies.push(performance.now() - started);
    await Bun.sleep(200); // the next edit is a separate change, not part of this one's debounce
  }
  const worst = Math.max(...latencies);
  const middle = median(latencies);
  report({
    id: "P6",
    what: "a service file edited on the primary, replicated over mutual TLS on loopback, until the secondary's daemon reloaded it",
    name: `write → secondary reloaded, ${EDITS} edits`,
    target: `≤ ${TARGET_MS} ms worst`,
    measured: `${middle.toFixed(0)} ms median, ${worst.toFixed(0)} ms worst`,
    value: worst,
    unit: "ms",
    ok: worst <= TARGET_MS,
    where: "host",
    bench: "controlplane",
    loaded: meter().loaded,
  });
} finally {
  await secondary.stop();
  await primary.stop();
  primary.remove();
  secondary.remove();
  rmSync(certs, { recursive: true, force: true });
}
