/**
 * The BGP part of the FRR block (`bgp:` in the main file): one eBGP/iBGP session per neighbour, and an
 * announcement policy that lets out nothing but the announced VIPs. lbctl does not tell bgpd what to announce at
 * run time: the daemon adds a VIP's /32 (/128) route to the kernel's main table, with protocol `lbctl` (250), while
 * this director can serve the VIP, and deletes it otherwise; zebra sees kernel routes, and `redistribute kernel`
 * through the route-map below turns exactly those routes into announcements. Pure.
 */

import { addressFamily, type Config } from "../../config/model.ts";
import { announcedVips } from "../../config/bgp.ts";

export interface BgpNeighborPlan {
  address: string;
  remoteAsn: number;
  /** The TCP MD5 password, read from `password_file` by the caller; never logged. */
  password?: string;
  bfd: boolean;
}

export interface BgpPlan {
  localAsn: number;
  routerId: string;
  neighbors: BgpNeighborPlan[];
  ipv4: string[];
  ipv6: string[];
  communities: string[];
  keepaliveSeconds: number;
  holdSeconds: number;
}

export const ROUTE_MAP = "LBCTL-ANNOUNCE";

/** What `bgp:` asks of FRR, or undefined when BGP is off. `readPassword` reads a neighbour's password file. */
export function bgpPlan(config: Pick<Config, "main" | "services">, readPassword: (file: string) => string): BgpPlan | undefined {
  const { bgp } = config.main;
  if (!bgp.enabled || bgp.local_asn === undefined || bgp.router_id === undefined) return undefined;
  const vips = announcedVips(config);
  return {
    localAsn: bgp.local_asn,
    routerId: bgp.router_id,
    neighbors: bgp.neighbors.map((n) => ({
      address: n.address,
      remoteAsn: n.remote_asn,
      bfd: n.bfd,
      ...(n.password_file ? { password: readPassword(n.password_file) } : {}),
    })),
    ipv4: vips.filter((vip) => addressFamily(vip) === 4),
    ipv6: vips.filter((vip) => addressFamily(vip) === 6),
    communities: bgp.communities,
    keepaliveSeconds: bgp.keepalive_seconds,
    holdSeconds: bgp.hold_seconds,
  };
}

/** The `router bgp` section and its policy, as lines of the managed block. */
export function renderBgpLines(plan: BgpPlan): string[] {
  const lines = [`router bgp ${plan.localAsn}`, ` bgp router-id ${plan.routerId}`, ` timers bgp ${plan.keepaliveSeconds} ${plan.holdSeconds}`];
  for (const n of plan.neighbors) {
    lines.push(` neighbor ${n.address} remote-as ${n.remoteAsn}`);
    if (n.password !== undefined) lines.push(` neighbor ${n.address} password ${n.password}`);
    if (n.bfd) lines.push(` neighbor ${n.address} bfd`);
  }
  for (const family of [4, 6] as const) {
    const vips = family === 4 ? plan.ipv4 : plan.ipv6;
    const peers = plan.neighbors.filter((n) => addressFamily(n.address) === family);
    if (vips.length === 0 && peers.length === 0) continue;
    lines.push(` address-family ipv${family} unicast`);
    if (vips.length > 0) lines.push(`  redistribute kernel route-map ${ROUTE_MAP}-V${family}`);
    for (const n of peers) {
      if (family === 6) lines.push(`  neighbor ${n.address} activate`);
      // The only way out: nothing but the announced VIPs reaches a router, whatever else bgpd learns.
      lines.push(`  neighbor ${n.address} route-map ${ROUTE_MAP}-V${family} out`);
    }
    lines.push(" exit-address-family");
  }
  lines.push("exit");
  for (const family of [4, 6] as const) {
    const vips = family === 4 ? plan.ipv4 : plan.ipv6;
    const list = `${ROUTE_MAP}-V${family}`;
    const keyword = family === 4 ? "ip" : "ipv6";
    const length = family === 4 ? 32 : 128;
    if (vips.length === 0) lines.push(`${keyword} prefix-list ${list} seq 5 deny any`);
    vips.forEach((vip, i) => lines.push(`${keyword} prefix-list ${list} seq ${(i + 1) * 5} permit ${vip}/${length}`));
    lines.push(`route-map ${list} permit 10`, ` match ${keyword} address prefix-list ${list}`);
    if (plan.communities.length > 0) lines.push(` set community ${plan.communities.join(" ")} additive`);
    lines.push("exit");
  }
  return lines;
}

/** The block's text with every password replaced, for diffs and logs. */
export function maskPasswords(text: string): string {
  return text.replace(/^( neighbor \S+ password )\S+$/gm, "$1********");
}
