/** Network interfaces as `ip -json -details address show` describes them, parsed (pure) into what lbctl checks. */

export interface LinkInfo {
  name: string;
  ifindex: number;
  mac: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** `ip` flag LOWER_UP: the device has a carrier. */
  lowerUp: boolean;
  /** FRR's VRRP backups set protodown on their macvlan. */
  protodown: boolean;
  /** Parent device of a macvlan/vlan (`ip`'s "link"). */
  parent?: string;
  kind?: string;
  macvlanMode?: string;
  addrGenMode?: string;
  /** Addresses with prefix, `10.0.0.1/24`. */
  addresses: string[];
}

interface IpJsonLink {
  ifindex?: number;
  ifname?: string;
  link?: string;
  flags?: string[];
  address?: string;
  proto_down?: boolean;
  inet6_addr_gen_mode?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
  addr_info?: { local?: string; prefixlen?: number }[];
}

export function parseIpJson(text: string): LinkInfo[] {
  const parsed = JSON.parse(text) as IpJsonLink[];
  if (!Array.isArray(parsed)) throw new Error("ip -json printed something other than a list");
  return parsed.map((link) => {
    const info: LinkInfo = {
      name: link.ifname ?? "",
      ifindex: link.ifindex ?? 0,
      mac: (link.address ?? "").toLowerCase(),
      up: (link.flags ?? []).includes("UP"),
      lowerUp: (link.flags ?? []).includes("LOWER_UP"),
      protodown: link.proto_down === true,
      addresses: (link.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen ?? ""}`),
    };
    if (link.link) info.parent = link.link;
    if (link.linkinfo?.info_kind) info.kind = link.linkinfo.info_kind;
    if (link.linkinfo?.info_data?.mode) info.macvlanMode = link.linkinfo.info_data.mode;
    if (link.inet6_addr_gen_mode) info.addrGenMode = link.inet6_addr_gen_mode;
    return info;
  });
}
