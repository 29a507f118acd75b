/** servicePorts takes a shortcut for a service with one ports entry: it must give what merging the lists gives. */

import { expect, test } from "bun:test";
import { servicePorts } from "../../src/config/model.ts";
import { checkProperty, type Random } from "../support/seeded-random.ts";

type Range = { start: number; end: number };

/** The merge of every entry, as for any service: sorted by start, each port once. */
function merged(service: { ports: Range[]; port_ranges: Range[] }): number[] {
  const ranges = [...service.ports, ...service.port_ranges].sort((a, b) => a.start - b.start);
  const ports: number[] = [];
  let next = 0;
  for (const range of ranges) {
    for (let port = Math.max(range.start, next); port <= range.end; port++) ports.push(port);
    next = Math.max(next, range.end + 1);
  }
  return ports;
}

function range(random: Random): Range {
  const start = 1 + random.below(2000);
  return { start, end: random.chance(0.5) ? start : start + random.below(40) };
}

test("one entry or many, the ports are the merged ranges", () => {
  let single = 0;
  checkProperty(
    {
      runs: 3000,
      generate: (random) => ({
        ports: Array.from({ length: random.below(3) }, () => range(random)),
        port_ranges: Array.from({ length: random.chance(0.6) ? 0 : 1 + random.below(2) }, () => range(random)),
      }),
    },
    (service) => {
      if (service.ports.length === 1 && service.port_ranges.length === 0) single++;
      expect(servicePorts(service)).toEqual(merged(service));
    },
  );
  expect(single).toBeGreaterThan(200);
});
