/**
 * The FRR configuration lbctl owns: one VRRPv3 virtual router on the frontend interface carrying every VIP of the
 * config, the addresses of the Kubernetes pools included (they move with the pair like any VIP). Pure. FRR wants `advertisement-interval` in milliseconds (10-40950, a multiple of 10); the Go LibraFlux
 * wrote centiseconds there.
 */

import { readFileSync } from "node:fs";
import { announcedVips } from "../../config/bgp.ts";
import { MAX_VRRP_ADDRESSES } from "../../config/kubernetes-rules.ts";
import { addressFamily, type Config } from "../../config/model.ts";
import { configManagedVips } from "../managed-vips.ts";
import { bgpPlan, renderBgpLines } from "./bgp.ts";

export const BEGIN_MARKER = "! BEGIN LBCTL MANAGED - DO NOT EDIT";
export const END_MARKER = "! END LBCTL MANAGED";

export class FrrConfigError extends Error {
  override readonly name = "FrrConfigError";
}

export interface VrrpPlan {
  interface: string;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  ipv4: string[];
  ipv6: string[];
}

/** What the config asks of FRR, or undefined when it has no `vrrp:` section. Throws when VRRP cannot be set up. */
export function vrrpPlan(config: Pick<Config, "main" | "services" | "mainFile">): VrrpPlan | undefined {
  const { vrrp, node, network } = config.main;
  if (!vrrp) return undefined;
  const iface = network.frontend.interface;
  if (!iface) {
    throw new FrrConfigError(
      `${config.mainFile}: network.frontend.interface is required with vrrp: the VRRP router runs on that interface`,
    );
  }
  // A VIP announced over BGP is served by every director at once: VRRP does not move it (validation keeps the two apart).
  const announced = new Set(announcedVips(config));
  const vips = [...new Set([network.frontend.vip, ...configManagedVips(config)])].filter((vip) => !announced.has(vip)).sort();
  const ipv4 = vips.filter((vip) => addressFamily(vip) === 4);
  const ipv6 = vips.filter((vip) => addressFamily(vip) === 6);
  // Validation refuses such configs already (kubernetes.pools); this keeps FRR from ever getting an instance it drops.
  for (const [family, list] of [["IPv4", ipv4], ["IPv6", ipv6]] as const) {
    if (list.length > MAX_VRRP_ADDRESSES) {
      throw new FrrConfigError(
        `${config.mainFile}: vrrp.vrid ${vrrp.vrid} would carry ${list.length} ${family} addresses (VIPs and kubernetes.pools); one VRRP instance carries at most ${MAX_VRRP_ADDRESSES} (the protocol's count field): shrink kubernetes.pools`,
      );
    }
  }
  return {
    interface: iface,
    vrid: vrrp.vrid,
    priority: node.role === "secondary" ? vrrp.priority_secondary : vrrp.priority_primary,
    advertIntervalMs: vrrp.advert_interval_ms,
    ipv4,
    ipv6,
  };
}

/** The managed block, markers included, ending with a newline. */
export function renderFrrBlock(plan: VrrpPlan | undefined, nodeName: string, role: string, bgpLines: readonly string[] = []): string {
  const vrrp = plan
    ? [
        `interface ${plan.interface}`,
        ` vrrp ${plan.vrid} version 3`,
        ` vrrp ${plan.vrid} priority ${plan.priority}`,
        ` vrrp ${plan.vrid} advertisement-interval ${plan.advertIntervalMs}`,
        ...plan.ipv4.map((vip) => ` vrrp ${plan.vrid} ip ${vip}`),
        ...plan.ipv6.map((vip) => ` vrrp ${plan.vrid} ipv6 ${vip}`),
        "exit",
      ]
    : [];
  return [BEGIN_MARKER, `! Written by \`lbctl setup frr\` for node ${nodeName} (role ${role}); edit the lbctl config and rerun it.`, ...vrrp, ...bgpLines, END_MARKER, ""].join("\n");
}

/** The block for a config, or undefined with neither `vrrp:` nor `bgp:`. `readPassword` reads BGP password files. */
export function frrBlockFor(config: Pick<Config, "main" | "services" | "mainFile">, readPassword: (file: string) => string = readBgpPassword): string | undefined {
  const plan = vrrpPlan(config);
  const bgp = bgpPlan(config, readPassword);
  if (!plan && !bgp) return undefined;
  return renderFrrBlock(plan, config.main.node.name, config.main.node.role, bgp ? renderBgpLines(bgp) : []);
}

const PASSWORD = /^[\x21-\x7e]{1,80}$/;

/** A BGP session password from its file: one line of 1-80 printable characters without spaces (FRR's limit). */
export function readBgpPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new FrrConfigError(`cannot read the BGP password file ${file}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, "");
  if (!PASSWORD.test(password)) throw new FrrConfigError(`${file} must hold one line of 1-80 printable characters without spaces (the BGP session password)`);
  return password;
}
