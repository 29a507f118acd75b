/** Mappings between lbctl's names and the numbers the IPVS attributes carry. */

import {
  AF_INET,
  AF_INET6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IP_VS_CONN_F_BYPASS,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GRE,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
} from "../constants.ts";
import type { Family, ForwardMethod, Protocol, TunnelSettings } from "../types.ts";

export function familyToAf(family: Family): number {
  return family === 6 ? AF_INET6 : AF_INET;
}

export function afToFamily(af: number): Family | undefined {
  if (af === AF_INET) return 4;
  if (af === AF_INET6) return 6;
  return undefined;
}

const PROTOCOL_NUMBERS: Readonly<Record<Protocol, number>> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

export function protocolNumber(protocol: Protocol): number {
  return PROTOCOL_NUMBERS[protocol];
}

export function protocolName(number: number): Protocol | undefined {
  if (number === IPPROTO_TCP) return "tcp";
  if (number === IPPROTO_UDP) return "udp";
  if (number === IPPROTO_SCTP) return "sctp";
  return undefined;
}

const FORWARD_NUMBERS: Readonly<Record<ForwardMethod, number>> = {
  nat: IP_VS_CONN_F_MASQ,
  local: IP_VS_CONN_F_LOCALNODE,
  tun: IP_VS_CONN_F_TUNNEL,
  dr: IP_VS_CONN_F_DROUTE,
  bypass: IP_VS_CONN_F_BYPASS,
};
const FORWARD_NAMES: readonly ForwardMethod[] = ["nat", "local", "tun", "dr", "bypass"];

export function forwardNumber(method: ForwardMethod): number {
  return FORWARD_NUMBERS[method];
}

export function forwardName(number: number): ForwardMethod | undefined {
  return FORWARD_NAMES[number];
}

const TUNNEL_NUMBERS: Readonly<Record<TunnelSettings["type"], number>> = {
  ipip: IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  gue: IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  gre: IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const TUNNEL_NAMES: readonly TunnelSettings["type"][] = ["ipip", "gue", "gre"];

export function tunnelNumber(type: TunnelSettings["type"]): number {
  return TUNNEL_NUMBERS[type];
}

export function tunnelName(number: number): TunnelSettings["type"] | undefined {
  return TUNNEL_NAMES[number];
}
