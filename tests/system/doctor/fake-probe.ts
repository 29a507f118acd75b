/** An in-memory HostProbe: files, links and answers set by the test. */

import type { SyncDaemonSettings } from "../../../src/ipvs/types.ts";
import type { LinkInfo } from "../../../src/system/frr/links.ts";
import type { HealthProbe, HostProbe, IpvsProbe } from "../../../src/system/doctor/types.ts";

export interface FakeHost {
  release?: string;
  files?: Record<string, string>;
  ipvs?: IpvsProbe;
  libnlError?: string;
  addresses?: string[];
  links?: LinkInfo[];
  processes?: string[];
  daemon?: boolean;
  health?: HealthProbe;
  listener?: string;
  syncDaemons?: SyncDaemonSettings[] | Error;
  bgpPeers?: Map<string, string> | Error;
}

export function fakeProbe(host: FakeHost): HostProbe {
  const files = host.files ?? {};
  return {
    kernelRelease: () => host.release ?? "6.1.0-30-amd64",
    readText: (path) => files[path],
    exists: (path) => path in files || Object.keys(files).some((file) => file.startsWith(`${path}/`)),
    ipvsInfo: () => host.ipvs ?? { ok: true, version: "1.2.1", connTabSize: 4096 },
    syncDaemons: () => host.syncDaemons ?? [],
    bgpPeers: () => host.bgpPeers ?? new Error("vtysh: command not found"),
    libnlError: () => host.libnlError,
    localAddresses: () => new Set(host.addresses ?? []),
    links: () => host.links,
    processNames: () => new Set(host.processes ?? []),
    daemonAnswers: async () => host.daemon ?? false,
    httpHealth: async () => host.health ?? { ok: false, error: "connection refused" },
    tcpListenerOwner: () => host.listener,
  };
}

/** /proc/sys files for dotted keys. */
export function sysctls(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [`/proc/sys/${key.replaceAll(".", "/")}`, `${value}\n`]));
}
