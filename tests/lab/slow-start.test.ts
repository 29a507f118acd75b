/**
 * Slow start against a real kernel: a backend added by a reload enters IPVS at weight 1 and climbs to its weight in
 * steps (at most one per reconcile interval), the intermediate weights read back with `ipvsadm -Sn`. One daemon in a
 * namespace of its own, no health checks (recovery ramps are tests/daemon/slow-start.test.ts).
 */

import { describe, expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork } from "./support/index.ts";

const VIP = "10.204.0.1";
const RECONCILE_MS = 500;
const RAMP_S = 8;
const WEIGHT = 8;

const lab = daemonLab({ ownNamespace: true });
const ipvsadmSave = () => labNamespace(lab).ipvsadmSave();

function weightOf(address: string): number | undefined {
  const line = ipvsadmSave().find((l) => l.startsWith(`-a -t ${VIP}:80 -r ${address}:80 `));
  return line ? Number(/-w (\d+)/.exec(line)?.[1]) : undefined;
}

function writeConfig(addresses: string[]): void {
  writeDaemonConfig(
    lab,
    {
      node: { name: "lab-a" },
      network: { frontend: { vip: VIP } },
      daemon: { reconcile_interval_ms: RECONCILE_MS },
      observability: { metrics: { prometheus: { enabled: false } } },
    },
    [{ name: "web", ports: [80], scheduler: "wlc", backends: addresses.map((address) => ({ address, weight: WEIGHT })), health: { slow_start_seconds: RAMP_S } }],
  );
}

/** The weights the daemon set on `address` for slow start, in order, from its audit records. */
function steps(address: string): number[] {
  const pattern = new RegExp(`Backend weight changed .*backend=${address.replaceAll(".", "\\.")}:80 .*new_weight=(\\d+).*reason=slow-start`, "g");
  return [...lab.daemon!.log().matchAll(pattern)].map((m) => Number(m[1]));
}

describe("slow start against the kernel", () => {
  test("an added backend enters at weight 1 and climbs to its weight in bounded steps", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    const [first, second] = lab.network.backends.map((b) => b.address);
    writeConfig([first!]);
    lab.daemon = await startLabDaemon(lab);
    // A daemon start ramps nothing.
    await waitFor(() => weightOf(first!) === WEIGHT, 10_000, "the first backend programmed at full weight");

    writeConfig([first!, second!]);
    const reload = await labNamespace(lab).lbctl(["reload", "--config", lab.tree!.main]);
    expect(reload.exitCode).toBe(0);
    // The reload's own plan created it at weight 1 (the command returns after the kernel took it).
    const atStart = weightOf(second!);
    expect(atStart).toBeGreaterThanOrEqual(1);
    expect(atStart).toBeLessThan(WEIGHT);
    expect(weightOf(first!)).toBe(WEIGHT);

    // Midway, as the daemon reports it and the kernel confirms it.
    await waitFor(() => steps(second!).includes(4), RAMP_S * 1000 + 10_000, "the ramp at weight 4");
    const midway = weightOf(second!)!;
    expect(midway).toBeGreaterThanOrEqual(4);
    expect(midway).toBeLessThan(WEIGHT);

    await waitFor(() => /Slow start done/.test(lab.daemon!.log()), RAMP_S * 1000 + 10_000, "the end of the ramp");
    expect(weightOf(second!)).toBe(WEIGHT);
    const seen = steps(second!);
    // Increasing, ending at the weight, never more changes than intervals in the ramp.
    expect(seen.at(-1)).toBe(WEIGHT);
    expect(seen.every((w, i) => i === 0 || w > seen[i - 1]!)).toBe(true);
    expect(seen.length).toBeLessThanOrEqual((RAMP_S * 1000) / RECONCILE_MS + 1);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    // The budget in a quiet guest is far less; the margin is for a loaded, emulated one.
  }, 180_000);
});
