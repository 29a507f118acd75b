/**
 * /proc/net/ip_vs, the kernel's own text view of the IPVS table (hexadecimal addresses and ports), read by the
 * failover bench's observer: a path to the table that shares nothing with lbctl's netlink code.
 *
 *   TCP  0AE60001:1F40 wlc
 *     -> 0A010102:0050      Masq    0      0          0
 *   UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 rr
 *   FWM  00000007 rr
 */

export interface ProcDestination {
  address: string;
  port: number;
  forward: string;
  weight: number;
}

export interface ProcService {
  protocol: string;
  /** Dotted IPv4, or IPv6 as the kernel prints it (eight groups); the firewall mark in hex for FWM. */
  address: string;
  port: number;
  scheduler: string;
  destinations: ProcDestination[];
}

function endpoint(text: string): { address: string; port: number } {
  const separator = text.lastIndexOf(":");
  const port = Number.parseInt(text.slice(separator + 1), 16);
  const host = text.slice(0, separator);
  if (host.startsWith("[")) return { address: host.slice(1, -1), port };
  if (!/^[0-9A-Fa-f]{8}$/.test(host)) throw new RangeError(`Not an IPVS address in /proc/net/ip_vs: ${text}`);
  const value = Number.parseInt(host, 16);
  return { address: [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join("."), port };
}

export function parseProcIpVs(text: string): ProcService[] {
  const services: ProcService[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "->") {
      if (fields[1] === "RemoteAddress:Port") continue;
      const current = services.at(-1);
      if (current === undefined) throw new RangeError(`A destination before any service in /proc/net/ip_vs: ${line}`);
      current.destinations.push({ ...endpoint(fields[1]!), forward: fields[2]!, weight: Number(fields[3]) });
    } else if (fields[0] === "TCP" || fields[0] === "UDP" || fields[0] === "SCTP") {
      services.push({ protocol: fields[0], ...endpoint(fields[1]!), scheduler: fields[2]!, destinations: [] });
    } else if (fields[0] === "FWM") {
      services.push({ protocol: "FWM", address: fields[1]!, port: 0, scheduler: fields[2]!, destinations: [] });
    }
  }
  return services;
}

/** How many destinations `address:port` has in the table, and how many of them have weight 0. */
export function weightsOf(services: readonly ProcService[], address: string, port: number): { total: number; zero: number } {
  let total = 0;
  let zero = 0;
  for (const service of services) {
    for (const destination of service.destinations) {
      if (destination.address !== address || destination.port !== port) continue;
      total++;
      if (destination.weight === 0) zero++;
    }
  }
  return { total, zero };
}
