/** A service file (config.d/*.yaml): one top-level key, `services:`, a list. */

import * as v from "valibot";
import { HealthSchema } from "./health.ts";
import { FORWARD_MODES } from "./main.ts";
import { asText, choice, choiceOrUnset, describe, endpoint, integer, ipAddress, leaf, objectName } from "./primitives.ts";
import { ENV_REFERENCE, PORT_PATTERN } from "./json.ts";
import { UNCOMMON } from "./quick-run.ts";
import { list, section } from "./structure.ts";

export const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sh", "mh", "dh", "sed", "nq", "lblc", "lblcr", "fo", "ovf", "twos"] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export interface PortRange {
  start: number;
  end: number;
}

/** One entry of `ports`: an integer, or an "A-B" string (inclusive). */
function portEntry() {
  const expected = 'a port (1-65535) or a range "A-B"';
  return leaf<PortRange>(
    (input) => {
      if (typeof input === "number") {
        return Number.isInteger(input) && input >= 1 && input <= 65535
          ? { value: { start: input, end: input } }
          : { error: `must be ${expected}, got ${describe(input)}` };
      }
      const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(asText(input) ?? "");
      if (!match) return { error: `must be ${expected}, got ${describe(input)}` };
      const start = Number(match[1]);
      const end = Number(match[2] ?? match[1]);
      if (start < 1 || start > 65535 || end < 1 || end > 65535) return { error: `ports must be 1-65535, got ${describe(input)}` };
      if (start > end) return { error: `range start must not exceed its end, got ${describe(input)}` };
      return { value: { start, end } };
    },
    {
      // The schema cannot compare a range's two ends ("90-80"): lbctl validate reports that.
      anyOf: [
        { type: "integer", minimum: 1, maximum: 65535 },
        { type: "string", pattern: `^\\s*${PORT_PATTERN}\\s*(?:-\\s*${PORT_PATTERN}\\s*)?$` },
        ENV_REFERENCE,
      ],
    },
    // One port as a number or as 1-5 digits (what the pattern above takes without spaces or a range).
    (input) => {
      let port: number;
      if (typeof input === "number") port = input;
      else if (typeof input === "string" && DIGITS.test(input)) port = Number(input);
      else return UNCOMMON;
      return Number.isInteger(port) && port >= 1 && port <= 65535 ? { start: port, end: port } : UNCOMMON;
    },
  );
}

/** 1 to 5 ASCII digits (a native search: a cold start would otherwise read each character by a call). */
const DIGITS = /^[0-9]{1,5}$/;

const portRange = v.pipe(
  section({ start: integer(1, 65535), end: integer(1, 65535) }),
  v.forward(
    v.check((range) => range.start <= range.end, "start must not exceed end"),
    ["end"],
  ),
);

const backend = section({
  address: ipAddress("Backend address, same family as the VIP"),
  port: v.optional(integer(0, 65535, { description: "0 = the service port (one destination per service port)" }), 0),
  weight: v.optional(integer(0, 65535, { description: "0 = drained: keeps its connections, gets no new ones" }), 1),
});

const persistence = section({
  timeout_seconds: v.optional(integer(1, 31536000), 300),
});

export const ServiceSchema = section({
  name: objectName("Unique across all service files"),
  protocol: v.optional(choice(["tcp", "udp"], "tcp"), "tcp"),
  vip: v.optional(ipAddress("Overrides network.frontend.vip for this service")),
  ports: v.optional(list(portEntry(), "Ports: integers or \"A-B\" strings"), []),
  port_ranges: v.optional(list(portRange), []),
  scheduler: v.optional(choice(SCHEDULERS, "wlc", "IPVS scheduler"), "wlc"),
  mode: v.optional(choiceOrUnset(FORWARD_MODES, undefined, "Overrides the global mode for this service")),
  persistence: v.optional(persistence),
  backends: v.optional(list(backend), []),
  health: v.optional(HealthSchema, {}),
  // No defaults in the model: absent keys mean no quorum tracking (docs/configuration.md 4.8).
  quorum: v.optional(integer(1, 100_000_000, { description: "Minimum sum of the weights of live backends (default 1 with sorry_server)" })),
  quorum_hysteresis: v.optional(integer(0, 100_000_000, { description: "Lost below quorum - hysteresis, regained at quorum + hysteresis (default 0)" })),
  sorry_server: v.optional(endpoint("Destination added while the service is below quorum (its live backends get weight 0 meanwhile)")),
});

export const ServiceFileSchema = section({
  services: v.optional(list(ServiceSchema), []),
});

export type ServiceFile = v.InferOutput<typeof ServiceSchema>;
