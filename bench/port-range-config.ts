/**
 * The config of the port-range benchmarks (C1), on the host (port-range.ts) and in the kernel lab
 * (port-range-kernel.ts): one UDP service of a 60,000-port range × 4 backends (RTP, as SIP users run it) beside
 * 100 TCP services × 50 ports × 4, the shape of P1.
 */

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export const RANGE_PORTS = 60_000;
export const RANGE_FIRST_PORT = 2000;
export const WEB_SERVICES = 100;
export const WEB_PORTS = 50;
export const BACKENDS = 4;
export const VIP = "10.220.0.1";

/** Writes the tree in a new temporary folder; `mainExtra` adds keys to the main file (state_dir, socket in it). */
export function writePortRangeConfig(rangePorts: number, withWeb = true, mainExtra: (dir: string) => Record<string, unknown> = () => ({})): { dir: string; main: string } {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-bench-ports-"));
  const backends = (s: number) => Array.from({ length: BACKENDS }, (_, b) => ({ address: `10.${30 + b}.${s >> 8}.${(s & 255) + 1}`, weight: 1 + b }));
  const rtp = { name: "rtp", protocol: "udp", ports: [`${RANGE_FIRST_PORT}-${RANGE_FIRST_PORT + rangePorts - 1}`], backends: backends(200) };
  const web = Array.from({ length: withWeb ? WEB_SERVICES : 0 }, (_, s) => ({
    name: `svc${s}`,
    ports: [`${10000 + s * WEB_PORTS}-${10000 + s * WEB_PORTS + WEB_PORTS - 1}`],
    backends: backends(s),
  }));
  const main = join(dir, "config.yaml");
  mkdirSync(join(dir, "config.d"));
  writeFileSync(main, stringify({ node: { name: "bench" }, network: { frontend: { vip: VIP } }, ...mainExtra(dir) }));
  writeFileSync(join(dir, "config.d/rtp.yaml"), stringify({ services: [rtp] }));
  writeFileSync(join(dir, "config.d/web.yaml"), stringify({ services: web }));
  return { dir, main };
}
