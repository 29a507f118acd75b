/** The real `HostProbe`: files, netlink (IPVS and addresses), `ip -json`, /proc. Every method answers, none throws. */

import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { release } from "node:os";
import { createIpvsClient } from "../../ipvs/client.ts";
import { IpvsUnavailableError, LibraryMissingError } from "../../ipvs/errors.ts";
import { bindLibnl } from "../../ipvs/transport/native.ts";
import { parseIpJson, type LinkInfo } from "../frr/links.ts";
import { LocalAddressReader } from "../local-addresses.ts";
import type { HealthProbe, HostProbe, IpvsProbe } from "./types.ts";

const MAX_FILE = 16 * 1024 * 1024;

/**
 * `daemonAnswers` is the daemon's control client (daemon/control-client.ts), passed in by the command: the daemon
 * sits above this layer, so the probe does not import it.
 */
export function createHostProbe(deps: Pick<HostProbe, "daemonAnswers">): HostProbe {
  return {
    kernelRelease: () => release(),
    readText(path) {
      try {
        const text = readFileSync(path, "utf8");
        return text.length > MAX_FILE ? undefined : text;
      } catch {
        return undefined;
      }
    },
    exists: (path) => existsSync(path),
    ipvsInfo,
    bgpPeers() {
      try {
        const proc = Bun.spawnSync(["vtysh", "-c", "show bgp summary json"], { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
        if (proc.exitCode !== 0) return new Error(proc.stderr.toString().trim() || `vtysh exited ${proc.exitCode}`);
        return parseBgpSummary(proc.stdout.toString());
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    },
    syncDaemons() {
      let client;
      try {
        client = createIpvsClient();
        return client.listSyncDaemons();
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      } finally {
        client?.close();
      }
    },
    libnlError() {
      try {
        bindLibnl();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    localAddresses() {
      const reader = new LocalAddressReader();
      try {
        return reader.localAddresses();
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      } finally {
        reader.close();
      }
    },
    links,
    processNames,
    daemonAnswers: deps.daemonAnswers,
    httpHealth,
    tcpListenerOwner,
  };
}

function ipvsInfo(): IpvsProbe {
  let client;
  try {
    client = createIpvsClient();
    const info = client.info();
    return { ok: true, version: info.version, connTabSize: info.connectionTableSize };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof LibraryMissingError) return { ok: false, reason: "library", message };
    if (error instanceof IpvsUnavailableError) return { ok: false, reason: "family", message };
    return { ok: false, reason: "other", message };
  } finally {
    client?.close();
  }
}

function links(): LinkInfo[] | undefined {
  try {
    const proc = Bun.spawnSync(["ip", "-json", "-details", "address", "show"], { stdout: "pipe", stderr: "ignore" });
    if (proc.exitCode !== 0) return undefined;
    return parseIpJson(proc.stdout.toString());
  } catch {
    return undefined;
  }
}

function processNames(): Set<string> {
  const names = new Set<string>();
  for (const entry of safeReaddir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      names.add(readFileSync(`/proc/${entry}/comm`, "utf8").trim());
    } catch {
      // the process ended meanwhile
    }
  }
  return names;
}

async function httpHealth(host: string, port: number): Promise<HealthProbe> {
  const authority = host.includes(":") ? `[${host}]` : host;
  try {
    const response = await fetch(`http://${authority}:${port}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.text()).slice(0, 200);
    return { ok: true, status: response.status, body };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Finds the socket inode listening on the port in /proc/net/tcp{,6}, then the process holding that inode. */
function tcpListenerOwner(port: number): string | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is field 9.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === "0A" && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of safeReaddir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        try {
          return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Neighbour → state from `show bgp summary json` (one object per address family, each with `peers`). */
export function parseBgpSummary(text: string): Map<string, string> | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new Error("vtysh did not answer JSON (is bgpd running?)");
  }
  const peers = new Map<string, string>();
  if (typeof parsed !== "object" || parsed === null) return peers;
  for (const family of Object.values(parsed as Record<string, unknown>)) {
    const familyPeers = (family as { peers?: unknown } | null)?.peers;
    if (typeof familyPeers !== "object" || familyPeers === null) continue;
    for (const [address, peer] of Object.entries(familyPeers as Record<string, unknown>)) {
      const state = (peer as { state?: unknown } | null)?.state;
      if (typeof state === "string") peers.set(address, state);
    }
  }
  return peers;
}
