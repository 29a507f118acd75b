/**
 * udp_dns: one DNS query (`dns_query`, `dns_type` [A], a random ID, RD set) over UDP. Healthy when the reply has the
 * query's ID, is a response to a standard query, is not truncated, carries the same question (name, type, class)
 * and its RCODE is one of `expect_rcode` [NOERROR]. Anything else is a failure whose reason says what was wrong.
 */

import type { Checker, HealthFile } from "../types.ts";
import { randomU16 } from "./_random.ts";
import { udpExchange, type Judgement } from "./_udp.ts";
import { CLASS_IN, decodeReply, DNS_TYPE_CODES, DnsMessageError, encodeQuery, isName, rcodeName, typeName } from "./dns/message.ts";

export const DEFAULT_EXPECT_RCODE = ["NOERROR"];

export interface DnsSettings {
  name: string;
  type: number;
  rcodes: readonly string[];
}

export function dnsSettings(health: HealthFile): DnsSettings {
  return { name: health.dns_query ?? "", type: DNS_TYPE_CODES[health.dns_type ?? "a"], rcodes: health.expect_rcode ?? DEFAULT_EXPECT_RCODE };
}

/** Judges a reply to the query `id` of `settings`. Pure. */
export function judgeDns(reply: Uint8Array, id: number, settings: DnsSettings): Judgement {
  let decoded;
  try {
    decoded = decodeReply(reply);
  } catch (error) {
    if (error instanceof DnsMessageError) return { ok: false, reason: error.message };
    throw error;
  }
  const { header, question } = decoded;
  if (header.id !== id) return { ok: false, reason: `reply ID 0x${hex4(header.id)} does not match the query ID 0x${hex4(id)}` };
  if (!header.qr) return { ok: false, reason: "not a reply: the QR bit is clear" };
  if (header.opcode !== 0) return { ok: false, reason: `reply has opcode ${header.opcode}, the query was a standard query (0)` };
  if (header.tc) return { ok: false, reason: "truncated reply (TC bit set): the answer did not fit a UDP datagram" };
  const wanted = `${settings.name.replace(/\.$/, "")}/${typeName(settings.type)}`;
  if (question === undefined) return { ok: false, reason: `reply has no question (${rcodeName(header.rcode)}), expected ${wanted}` };
  if (header.qdcount !== 1 || !isName(question.labels, settings.name) || question.type !== settings.type || question.class !== CLASS_IN) {
    const got = `${question.name}/${typeName(question.type)}${question.class === CLASS_IN ? "" : ` class ${question.class}`}${header.qdcount > 1 ? ` (+${header.qdcount - 1} more)` : ""}`;
    return { ok: false, reason: `reply question ${JSON.stringify(got)} does not match the query's ${JSON.stringify(wanted)}` };
  }
  const rcode = rcodeName(header.rcode);
  if (!settings.rcodes.includes(rcode)) return { ok: false, reason: `${rcode}, expected ${settings.rcodes.join(" or ")}` };
  return { ok: true, reason: `${rcode}, ${header.ancount} answer${header.ancount === 1 ? "" : "s"}` };
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, "0");
}

/** A udp_dns checker; it keeps the query settings of each health block, which serves every probe of a service. */
export function createUdpDnsChecker(): Checker {
  const prepared = new WeakMap<HealthFile, DnsSettings>();
  return {
    type: "udp_dns",
    probe(target, signal) {
      let settings = prepared.get(target.health);
      if (settings === undefined) prepared.set(target.health, (settings = dnsSettings(target.health)));
      const id = randomU16();
      let request: Uint8Array;
      try {
        request = encodeQuery({ id, name: settings.name, type: settings.type });
      } catch (error) {
        // The config rules reject such names; a caller that skipped validation gets a failure, not a crash.
        return Promise.resolve({ ok: false, reason: error instanceof Error ? error.message : String(error), latencyMs: 0 });
      }
      const current = settings;
      return udpExchange(target, signal, { request, judge: (data) => judgeDns(data, id, current) });
    },
  };
}
