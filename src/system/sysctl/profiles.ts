/**
 * The tuning profiles of `system.tuning_profile`: which kernel settings lbctl writes, with the reason for each.
 * Pure data. docs/install.md renders the same table; tests/system/sysctl-docs.test.ts keeps the two in step.
 */

import { addressFamily, forwardMode, type Config } from "../../config/model.ts";

export const TUNING_PROFILES = ["minimal", "balanced", "aggressive"] as const;
export type TuningProfile = (typeof TUNING_PROFILES)[number];

/** When a setting applies: always, or only when some service uses NAT (of that family). */
export type Condition = "always" | "nat" | "nat-ipv4" | "nat-ipv6" | "bgp";

export interface SysctlSetting {
  key: string;
  /** The value per profile; undefined = the profile leaves the kernel's default. */
  values: Readonly<Record<TuningProfile, string | undefined>>;
  when: Condition;
  reason: string;
}

const all = (value: string) => ({ minimal: value, balanced: value, aggressive: value });

export const SYSCTL_SETTINGS: readonly SysctlSetting[] = [
  {
    key: "net.ipv4.ip_forward",
    values: all("1"),
    when: "nat-ipv4",
    reason: "NAT: the backends' replies cross this director on their way back to the clients; without forwarding they are dropped",
  },
  {
    key: "net.ipv6.conf.all.forwarding",
    values: all("1"),
    when: "nat-ipv6",
    reason: "IPv6 NAT: as ip_forward for IPv4 (interfaces then ignore router advertisements unless their accept_ra is 2)",
  },
  {
    key: "net.ipv4.vs.conntrack",
    values: all("1"),
    when: "nat",
    reason:
      "NAT: keeps netfilter connection tracking entries for IPVS connections, so SNAT/masquerade and stateful firewall rules (ct state) see them instead of dropping them as invalid",
  },
  {
    key: "net.ipv4.vs.expire_nodest_conn",
    values: all("1"),
    when: "always",
    reason:
      "when a backend is deleted, its connections are expired at their next packet so clients reconnect at once; with 0 their packets are dropped silently until the entry times out (up to 15 minutes for TCP)",
  },
  {
    key: "net.ipv4.vs.expire_quiescent_template",
    values: all("1"),
    when: "always",
    reason:
      "persistent services: a drained backend (weight 0) stops getting new clients through persistence templates too; with 0 a client keeps being sent to it for the whole persistence timeout",
  },
  {
    key: "net.netfilter.nf_conntrack_tcp_timeout_established",
    values: all("900"),
    when: "nat",
    reason:
      "NAT with vs.conntrack: matches IPVS's own 900 s TCP timeout; the netfilter default (5 days) keeps entries of dead connections and fills the table",
  },
  {
    key: "net.netfilter.nf_conntrack_max",
    values: { minimal: undefined, balanced: "262144", aggressive: "1048576" },
    when: "nat",
    reason:
      "NAT with vs.conntrack: every IPVS connection takes a conntrack entry; when the table is full new connections are dropped (\"nf_conntrack: table full\"). About 320 bytes per entry",
  },
  {
    key: "net.ipv4.vs.sloppy_tcp",
    values: all("1"),
    when: "bgp",
    reason:
      "BGP ECMP (bgp.enabled): when the routers rehash a flow to this director mid-connection, IPVS schedules its next segment as if it were a SYN instead of dropping it to the local stack (which resets it); with mh every director picks the same backend",
  },
  {
    key: "net.ipv4.vs.sloppy_sctp",
    values: all("1"),
    when: "bgp",
    reason: "BGP ECMP (bgp.enabled): the same for SCTP, whose associations would otherwise be refused by a director that did not see the INIT",
  },
  {
    key: "net.core.netdev_max_backlog",
    values: { minimal: undefined, balanced: "5000", aggressive: "16384" },
    when: "always",
    reason:
      "packets a CPU queues before the network stack processes them; the default 1000 drops bursts on fast links (second column of /proc/net/softnet_stat)",
  },
];

/** `conn_tab_bits` of the ip_vs module: a module parameter (read at load time), never a sysctl. */
export const CONN_TAB_BITS: Readonly<Record<TuningProfile, number>> = { minimal: 12, balanced: 18, aggressive: 20 };

export const CONN_TAB_BITS_REASON =
  "hash buckets of the IPVS connection table (2^bits): the default 12 (4,096 buckets) makes lookups walk long chains beyond a few hundred thousand connections; 8 bytes per bucket (2 MiB at 18, 8 MiB at 20). It is not a connection limit";

/** What of the config decides which settings apply. */
export interface TuningNeeds {
  natIpv4: boolean;
  natIpv6: boolean;
  /** bgp.enabled: any director may get any packet of a flow. */
  bgp?: boolean;
}

export function tuningNeeds(config: Pick<Config, "main" | "services">): TuningNeeds {
  const needs = { natIpv4: false, natIpv6: false, bgp: config.main.bgp.enabled };
  for (const service of config.services) {
    if (forwardMode(config.main, service) !== "nat") continue;
    const vip = service.vip ?? config.main.network.frontend.vip;
    if (addressFamily(vip) === 6) needs.natIpv6 = true;
    else needs.natIpv4 = true;
  }
  // No services yet: the global mode says what is coming.
  if (config.services.length === 0 && config.main.mode === "nat") {
    if (addressFamily(config.main.network.frontend.vip) === 6) needs.natIpv6 = true;
    else needs.natIpv4 = true;
  }
  return needs;
}

export function applies(setting: SysctlSetting, needs: TuningNeeds): boolean {
  switch (setting.when) {
    case "always":
      return true;
    case "nat":
      return needs.natIpv4 || needs.natIpv6;
    case "nat-ipv4":
      return needs.natIpv4;
    case "nat-ipv6":
      return needs.natIpv6;
    case "bgp":
      return needs.bgp === true;
  }
}

/** The key=value pairs a profile wants for this config, in table order. */
export function wantedSysctls(profile: TuningProfile, needs: TuningNeeds): { key: string; value: string; reason: string }[] {
  const wanted: { key: string; value: string; reason: string }[] = [];
  for (const setting of SYSCTL_SETTINGS) {
    const value = setting.values[profile];
    if (value !== undefined && applies(setting, needs)) wanted.push({ key: setting.key, value, reason: setting.reason });
  }
  return wanted;
}

/** /proc/sys path of a dotted key. */
export function procSysPath(key: string, root = "/proc/sys"): string {
  return `${root}/${key.replaceAll(".", "/")}`;
}
