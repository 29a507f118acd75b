/**
 * P6, in the kernel lab guest: config replication to the secondary's kernel. Two director namespaces joined by a
 * veth pair, each with its own lbctl daemon and IPVS table (tests/lab/support/controlplane-pair.ts); the primary
 * replicates to the secondary over mutual TLS. Timed from the write of a service file on the primary to the
 * secondary's kernel holding the edited service, read from outside lbctl: a netlink socket opened inside the
 * secondary's namespace lists its services every millisecond. 20 edits, median and worst.
 *
 * The path: the primary's watch debounce (100 ms), its validation, one TLS write, the secondary's checks,
 * validation, journaled write, in-process reload and the reconcile that programs the kernel. Emulated guest: the
 * figures are an upper bound of real hardware. Run: npm run bench -- controlplane-lab (needs build/lbctl).
 */

import { stringify } from "yaml";
import { PAIR_VIP, ReplicatedPair } from "../tests/lab/support/controlplane-pair.ts";
import { requireLab } from "../tests/lab/support/guard.ts";
import { waitFor } from "../tests/lab/support/lbctl-daemon.ts";
import { median, report, row } from "./support.ts";

const EDITS = 20;
const TARGET_MS = 1000;
const FIRST_PORT = 1000;

requireLab();
const web = (port: number) => stringify({ services: [{ name: "web", ports: [port], scheduler: "rr", backends: [{ address: "10.212.0.50" }] }] });
const pair = await ReplicatedPair.start({ "web.yaml": web(FIRST_PORT - 1) });
const secondary = pair.director(2).ipvsClient();
const holds = (port: number) => secondary.listServices().some((service) => service.address === PAIR_VIP && service.port === port);
try {
  await waitFor(() => holds(FIRST_PORT - 1), 30_000, "the first set in the secondary's kernel");
  const latencies: number[] = [];
  for (let edit = 0; edit < EDITS; edit++) {
    const port = FIRST_PORT + edit;
    const started = performance.now();
    pair.writeService(1, "web.yaml", web(port));
    while (!holds(port)) {
      if (performance.now() - started > 15_000) throw new Error(`edit ${edit} not in the secondary's kernel within 15 s`);
      await Bun.sleep(1);
    }
    latencies.push(performance.now() - started);
    // The next edit is a change of its own, not part of this one's debounce.
    await Bun.sleep(300);
  }
  const worst = Math.max(...latencies);
  const middle = median(latencies);
  console.log(row("write on the primary → the secondary's kernel", `${middle.toFixed(0)} ms median, ${worst.toFixed(0)} ms worst`, `≤ ${TARGET_MS} ms worst`, worst <= TARGET_MS));
  report({
    id: "P6",
    what: "a service file edited on the primary, replicated over mutual TLS between two director namespaces, until the secondary's kernel (IPVS) held it",
    name: `write → service in the secondary's kernel, ${EDITS} edits`,
    target: `≤ ${TARGET_MS} ms worst`,
    measured: `${middle.toFixed(0)} ms median, ${worst.toFixed(0)} ms worst`,
    value: worst,
    unit: "ms",
    ok: worst <= TARGET_MS,
    where: "guest",
    bench: "controlplane-lab",
  });
} finally {
  secondary.close();
  await pair.destroy();
}
