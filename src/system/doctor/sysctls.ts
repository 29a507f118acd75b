/**
 * Forwarding for NAT and the IPVS sysctls of the pitfalls table (reference/peers.md §9), each with the reason for
 * the advice. The vs.* keys exist only while ip_vs is loaded.
 */

import { forwardMode, type Config } from "../../config/model.ts";
import { tuningNeeds } from "../sysctl/profiles.ts";
import { ipvsMissing } from "./kernel.ts";
import { type CheckResult, type DoctorContext, pass, warn, fail } from "./types.ts";

/**
 * Keys these checks report on a line of their own, each with its reason; the profile comparison (files.ts) leaves
 * them out so a wrong value is reported once.
 */
export const SYSCTLS_CHECKED_ALONE: ReadonlySet<string> = new Set([
  "net.ipv4.ip_forward",
  "net.ipv6.conf.all.forwarding",
  "net.ipv4.vs.conn_reuse_mode",
  "net.ipv4.vs.expire_nodest_conn",
  "net.ipv4.vs.expire_quiescent_template",
  "net.ipv4.vs.conntrack",
]);

const read = (ctx: DoctorContext, key: string) => ctx.probe.readText(`/proc/sys/${key.replaceAll(".", "/")}`)?.trim();

export function checkForwarding(ctx: DoctorContext): CheckResult[] {
  const { config } = ctx;
  if (!config) return [];
  const needs = tuningNeeds(config);
  const results: CheckResult[] = [];
  if (!needs.natIpv4 && !needs.natIpv6) return [pass("ip_forward", "no NAT service: forwarding is not needed (dr and tun reply directly)")];
  for (const [needed, key] of [
    [needs.natIpv4, "net.ipv4.ip_forward"],
    [needs.natIpv6, "net.ipv6.conf.all.forwarding"],
  ] as const) {
    if (!needed) continue;
    const value = read(ctx, key);
    if (value === "1") results.push(pass(key, "1: NAT replies from the backends are forwarded back to the clients"));
    else results.push(fail(key, `${value ?? "unreadable"}: NAT services need it, the backends' replies are dropped otherwise`, `sysctl -w ${key}=1, and lbctl setup sysctl to keep it`));
  }
  return results;
}

/** Kernel release "5.10.0-23-amd64" → [5, 10]. */
export function kernelVersion(release: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

function usesPersistence(config: Config): boolean {
  return config.services.some((service) => service.persistence !== undefined);
}

function usesNat(config: Config): boolean {
  return config.services.some((service) => forwardMode(config.main, service) === "nat") || (config.services.length === 0 && config.main.mode === "nat");
}

export function checkIpvsSysctls(ctx: DoctorContext): CheckResult[] {
  if (!ctx.probe.exists("/proc/sys/net/ipv4/vs")) {
    // The cause is the "ipvs" check's failure: a warning here, with the same fix, and modprobe only where it helps.
    const missing = ipvsMissing((path) => ctx.probe.readText(path), ctx.probe.kernelRelease());
    return [warn("ipvs sysctls", "/proc/sys/net/ipv4/vs does not exist: ip_vs is not loaded, so none of its settings can be checked", missing.fix)];
  }
  const results: CheckResult[] = [];
  const config = ctx.config;
  const [major, minor] = kernelVersion(ctx.probe.kernelRelease());
  const before59 = major < 5 || (major === 5 && minor < 9);

  const reuse = read(ctx, "net.ipv4.vs.conn_reuse_mode");
  const conntrack = read(ctx, "net.ipv4.vs.conntrack");
  const reuseName = "net.ipv4.vs.conn_reuse_mode";
  if (reuse === "0") {
    results.push(warn(reuseName, "0: a client reusing a source port is sent to its old backend even at weight 0 or after it was deleted, which defeats draining and expire_nodest_conn", `sysctl -w ${reuseName}=1`));
  } else if (before59 && conntrack === "1") {
    results.push(warn(reuseName, `${reuse}: on kernel ${major}.${minor} (before 5.9) with vs.conntrack=1 the first SYN of a reused port is dropped, a 1 s stall for busy clients`, "upgrade to a kernel 5.9 or newer (setting 0 instead breaks draining)"));
  } else {
    results.push(pass(reuseName, `${reuse ?? "?"}: reused source ports are rescheduled${before59 ? "" : " (no SYN drop on kernels from 5.9)"}`));
  }

  const nodest = read(ctx, "net.ipv4.vs.expire_nodest_conn");
  results.push(
    nodest === "1"
      ? pass("net.ipv4.vs.expire_nodest_conn", "1: connections of a deleted backend expire at their next packet, so clients reconnect at once")
      : warn("net.ipv4.vs.expire_nodest_conn", `${nodest ?? "unreadable"}: when lbctl deletes a backend, packets of its connections are dropped silently until they time out (up to 15 minutes for TCP)`, "sysctl -w net.ipv4.vs.expire_nodest_conn=1, or lbctl setup sysctl"),
  );

  const quiescent = read(ctx, "net.ipv4.vs.expire_quiescent_template");
  const persistent = config ? usesPersistence(config) : false;
  if (quiescent === "1") results.push(pass("net.ipv4.vs.expire_quiescent_template", "1: a drained (weight 0) backend gets no new clients through persistence templates"));
  else if (persistent) results.push(warn("net.ipv4.vs.expire_quiescent_template", `${quiescent ?? "unreadable"}: persistent services keep sending returning clients to a drained (weight 0) backend for the whole persistence timeout`, "sysctl -w net.ipv4.vs.expire_quiescent_template=1, or lbctl setup sysctl"));
  else results.push(pass("net.ipv4.vs.expire_quiescent_template", `${quiescent ?? "?"}: only matters for persistent services, and none is configured`));

  if (config && usesNat(config)) {
    results.push(
      conntrack === "1"
        ? pass("net.ipv4.vs.conntrack", "1: netfilter sees IPVS NAT connections (SNAT and stateful firewall rules work)")
        : warn("net.ipv4.vs.conntrack", `${conntrack ?? "unreadable"} with NAT services: SNAT/masquerade and stateful firewall rules (ct state) do not see IPVS connections and may drop their packets as invalid; fine only on a director without such rules`, "sysctl -w net.ipv4.vs.conntrack=1, or lbctl setup sysctl"),
    );
  } else {
    results.push(pass("net.ipv4.vs.conntrack", `${conntrack ?? "?"}: no NAT service, connection tracking of IPVS traffic is not needed`));
  }
  return results;
}
