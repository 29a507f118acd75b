/** The `health:` block of a service, with the keys of every check type (each key applies to its types only). */

import * as v from "valibot";
import { asText, boolean, choice, describe, integer, leaf, text } from "./primitives.ts";
import type { JsonSchema } from "@valibot/to-json-schema";
import { caseInsensitivePattern, STATUS_PATTERN } from "./json.ts";
import { section } from "./structure.ts";

export const CHECK_TYPES = ["tcp", "udp_echo", "udp_dns", "udp_sip", "udp_ntp", "http"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

export const DNS_TYPES = ["a", "aaaa", "cname", "mx", "ns", "ptr", "soa", "srv", "txt", "any"] as const;
export const DNS_RCODES = ["noerror", "formerr", "servfail", "nxdomain", "notimp", "refused"] as const;

const hex = (description: string) =>
  text({ pattern: /^(?:[0-9A-Fa-f]{2})*$/, expected: "hex digits, two per byte (e.g. 0a1b)", description });

/** Inclusive status ranges, from `200`, `"200-399"`, `"200,204"` or a list of those. */
export type StatusRanges = Array<[number, number]>;

function statusRanges(description: string) {
  const expected = 'a status code (100-599), a range such as "200-399", or a list of them';
  const parseOne = (item: unknown, out: StatusRanges): boolean => {
    if (typeof item === "number") {
      if (!Number.isInteger(item) || item < 100 || item > 599) return false;
      out.push([item, item]);
      return true;
    }
    const raw = asText(item);
    if (raw === undefined) return false;
    for (const part of raw.split(",")) {
      const match = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
      if (!match) return false;
      const low = Number(match[1]);
      const high = Number(match[2] ?? match[1]);
      if (low < 100 || high > 599 || low > high) return false;
      out.push([low, high]);
    }
    return true;
  };
  return leaf<StatusRanges>(
    (input) => {
      const out: StatusRanges = [];
      const items = Array.isArray(input) ? input : [input];
      const ok = items.length > 0 && items.every((item) => parseOne(item, out));
      return ok ? { value: out } : { error: `must be ${expected}, got ${describe(input)}` };
    },
    statusRangesJson(description),
  );
}

/** The JSON form of a status list; it cannot compare a range's two ends ("399-200"): lbctl validate reports that. */
function statusRangesJson(description: string): JsonSchema {
  const range = `\\s*${STATUS_PATTERN}(?:\\s*-\\s*${STATUS_PATTERN})?\\s*`;
  const code: JsonSchema = { type: "integer", minimum: 100, maximum: 599 };
  const ranges: JsonSchema = { type: "string", pattern: `^${range}(?:,${range})*$` };
  return { anyOf: [code, ranges, { type: "array", minItems: 1, items: { anyOf: [code, ranges] } }], description };
}

function rcodes(description: string) {
  const expected = `an RCODE or a list of them (${DNS_RCODES.join(", ")})`;
  return leaf<string[]>(
    (input) => {
      const items = Array.isArray(input) ? input : [input];
      const out: string[] = [];
      for (const item of items) {
        const name = asText(item)?.trim().toLowerCase();
        if (!name || !(DNS_RCODES as readonly string[]).includes(name)) return { error: `must be ${expected}, got ${describe(input)}` };
        out.push(name.toUpperCase());
      }
      return out.length > 0 ? { value: out } : { error: `must be ${expected}, got an empty list` };
    },
    {
      anyOf: [
        { type: "string", pattern: caseInsensitivePattern(DNS_RCODES, false) },
        { type: "array", minItems: 1, items: { type: "string", pattern: caseInsensitivePattern(DNS_RCODES, false) } },
      ],
      description,
    },
  );
}

export const HealthSchema = section({
  enabled: v.optional(boolean("Checks run only when true"), false),
  type: v.optional(choice(CHECK_TYPES, "tcp", "Check type; udp_* only on UDP services, tcp/http only on TCP"), "tcp"),
  port: v.optional(integer(0, 65535, { description: "Probe port; 0 = the backend's own port" }), 0),
  // 0 means the default, so that Go-era files with zeroed, disabled health blocks still load.
  interval_ms: v.optional(integer(100, 3600000, { zeroMeans: 2000 }), 2000),
  timeout_ms: v.optional(integer(10, 60000, { zeroMeans: 1000, description: "Must be less than interval_ms" }), 1000),
  fail_after: v.optional(integer(1, 100, { zeroMeans: 3 }), 3),
  recover_after: v.optional(integer(1, 100, { zeroMeans: 2 }), 2),
  // No default in the model (absent = 0 = off), so that code building a health block by hand need not name it.
  slow_start_seconds: v.optional(
    integer(0, 3600, { description: "Ramp a backend that turns healthy, is added or is enabled from weight 1 to its weight over this time; 0 (default) = off" }),
  ),
  // udp_echo
  payload: v.optional(text({ description: "udp_echo: bytes to send (the nonce is appended unless nonce: false)" })),
  expect: v.optional(text({ description: "udp_echo: expected reply (default: the payload)" })),
  payload_hex: v.optional(hex("udp_echo: binary payload as hex")),
  expect_hex: v.optional(hex("udp_echo: binary expected reply as hex")),
  nonce: v.optional(boolean("udp_echo: append a unique nonce and require it back")),
  // udp_dns
  dns_query: v.optional(text({ allowEmpty: false, description: "udp_dns: name to query" })),
  dns_type: v.optional(choice(DNS_TYPES, "a", "udp_dns: record type (default A)")),
  expect_rcode: v.optional(rcodes("udp_dns: accepted response codes (default NOERROR)")),
  // udp_sip
  sip_uri: v.optional(text({ pattern: /^sips?:\S+$/, expected: "a SIP URI (sip:user@host)" })),
  sip_expect_status: v.optional(statusRanges("udp_sip: accepted status codes (default 200)")),
  // udp_ntp
  ntp_max_stratum: v.optional(integer(1, 15)),
  // http
  http_path: v.optional(text({ pattern: /^\/\S*$/, expected: "a path starting with /" })),
  http_host: v.optional(text({ allowEmpty: false })),
  http_status: v.optional(statusRanges('http: accepted status codes (default "200-399")')),
  http_weight_header: v.optional(
    text({
      pattern: /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
      expected: "an HTTP header name (e.g. X-Load-Balancing-Endpoint-Weight)",
      description: "http: a response header whose value (an integer 0-65535) becomes the backend's weight while it is healthy",
    }),
  ),
});

export type HealthFile = v.InferOutput<typeof HealthSchema>;

/** Keys that only some check types use; the rules reject them elsewhere. */
export const CHECK_SPECIFIC_KEYS: Readonly<Record<string, readonly CheckType[]>> = {
  payload: ["udp_echo"],
  expect: ["udp_echo"],
  payload_hex: ["udp_echo"],
  expect_hex: ["udp_echo"],
  nonce: ["udp_echo"],
  dns_query: ["udp_dns"],
  dns_type: ["udp_dns"],
  expect_rcode: ["udp_dns"],
  sip_uri: ["udp_sip"],
  sip_expect_status: ["udp_sip"],
  ntp_max_stratum: ["udp_ntp"],
  http_path: ["http"],
  http_host: ["http"],
  http_status: ["http"],
  http_weight_header: ["http"],
};
