/**
 * FRR's vrrpd does not create the interface that carries the virtual MAC: it needs, per address family, a macvlan
 * in bridge mode on the VRRP interface with MAC 00:00:5e:00:0F:VRID (F = 1 for IPv4, 2 for IPv6) and the VIPs on
 * it, never on the parent. This checks what the links have against that (pure) and gives the exact `ip` commands
 * for what is missing.
 */

import type { VrrpPlan } from "./block.ts";
import type { LinkInfo } from "./links.ts";

export interface MacvlanFamilyPlan {
  family: 4 | 6;
  mac: string;
  /** The macvlan found for it, or the name lbctl would give a new one. */
  device: string;
  found: boolean;
  /** Each problem, one sentence. */
  problems: string[];
  /** `ip` argument lists that fix them, in order. */
  commands: string[][];
}

export function virtualMac(family: 4 | 6, vrid: number): string {
  return `00:00:5e:00:0${family === 4 ? 1 : 2}:${vrid.toString(16).padStart(2, "0")}`;
}

/** `prefix` is network.frontend.cidr for the main VIP; other VIPs get a host prefix. */
export function macvlanPlan(plan: VrrpPlan, links: readonly LinkInfo[], mainVip: string, cidr: number | undefined): MacvlanFamilyPlan[] {
  const parent = links.find((link) => link.name === plan.interface);
  const result: MacvlanFamilyPlan[] = [];
  for (const family of [4, 6] as const) {
    const vips = family === 4 ? plan.ipv4 : plan.ipv6;
    if (vips.length === 0) continue;
    const mac = virtualMac(family, plan.vrid);
    const found = links.find((link) => link.kind === "macvlan" && link.parent === plan.interface && link.mac === mac);
    const device = found?.name ?? `vrrp${family}-${parent?.ifindex ?? 0}-${plan.vrid}`;
    const problems: string[] = [];
    const commands: string[][] = [];
    if (!parent) {
      problems.push(`interface ${plan.interface} (network.frontend.interface) does not exist`);
      result.push({ family, mac, device, found: false, problems, commands });
      continue;
    }
    if (!found) {
      problems.push(`no macvlan with MAC ${mac} on ${plan.interface} (FRR's VRRP sends and answers from it)`);
      // addrgenmode random: IPv6 advertisements come from the macvlan's link-local, which must differ between the
      // routers. Only for IPv6: the option fails (EAFNOSUPPORT) on a host with IPv6 disabled.
      commands.push(["link", "add", device, "link", plan.interface, ...(family === 6 ? ["addrgenmode", "random"] : []), "type", "macvlan", "mode", "bridge"]);
      commands.push(["link", "set", "dev", device, "address", mac]);
    } else if (found.macvlanMode !== "bridge") {
      problems.push(`macvlan ${device} is in mode ${found.macvlanMode ?? "unknown"}, FRR needs bridge (it must see the peer's advertisements while in Backup)`);
      commands.push(["link", "set", "dev", device, "type", "macvlan", "mode", "bridge"]);
    }
    if (found && family === 6 && found.addrGenMode !== undefined && found.addrGenMode !== "random") {
      problems.push(`macvlan ${device} derives its link-local address from the MAC (addrgenmode ${found.addrGenMode}): both routers would use the same one; recreate it with addrgenmode random`);
    }
    const have = new Set((found?.addresses ?? []).map((a) => a.split("/")[0]));
    for (const vip of vips) {
      if (!have.has(vip)) {
        const prefix = vip === mainVip && cidr !== undefined ? cidr : family === 4 ? 32 : 128;
        problems.push(`VIP ${vip} is not on ${device}`);
        commands.push(["addr", "add", `${vip}/${prefix}`, "dev", device]);
      }
      if (parent.addresses.some((a) => a.split("/")[0] === vip)) {
        problems.push(`VIP ${vip} is on ${plan.interface} itself: FRR needs it only on the macvlan`);
        const onParent = parent.addresses.find((a) => a.split("/")[0] === vip)!;
        commands.push(["addr", "del", onParent, "dev", plan.interface]);
      }
    }
    if (!found || !found.up) {
      if (found) problems.push(`macvlan ${device} is administratively down`);
      commands.push(["link", "set", "dev", device, "up"]);
    }
    result.push({ family, mac, device, found: Boolean(found), problems, commands });
  }
  return result;
}

export function shellCommand(args: readonly string[]): string {
  return ["ip", ...args].join(" ");
}
