/**
 * Metric families as InfluxDB points (pure). Counters and gauges: measurement = metric name, tags = labels,
 * field `value`. Histograms: measurement = metric name, one point per bucket with an `le` tag and the field
 * `<name>_bucket`, and one point per label set with the fields `<name>_sum` and `<name>_count`.
 */

import type { FamilySnapshot } from "../metrics/registry.ts";
import type { Point } from "./line-protocol.ts";

export function familyPoints(families: readonly FamilySnapshot[], time: number): Point[] {
  const points: Point[] = [];
  for (const family of families) {
    if (family.type !== "histogram") {
      for (const sample of family.values) points.push({ measurement: family.name, tags: tags(sample.labels), fields: { value: sample.value }, time });
      continue;
    }
    const totals = new Map<string, Point>();
    for (const sample of family.values) {
      const suffix = sample.metricName?.slice(family.name.length);
      if (suffix === "_bucket") {
        points.push({ measurement: family.name, tags: tags(sample.labels), fields: { [`${family.name}_bucket`]: sample.value }, time });
        continue;
      }
      if (suffix !== "_sum" && suffix !== "_count") continue;
      const labels = tags(sample.labels);
      const key = JSON.stringify(Object.entries(labels).sort());
      let point = totals.get(key);
      if (!point) {
        point = { measurement: family.name, tags: labels, fields: {}, time };
        totals.set(key, point);
        points.push(point);
      }
      point.fields[`${family.name}${suffix}`] = sample.value;
    }
  }
  return points;
}

function tags(labels: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, String(value)]));
}
