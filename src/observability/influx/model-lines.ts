/**
 * The metrics model as InfluxDB line protocol, written as bytes family by family (tags of each backend encoded
 * once and cached), with a pause between families so a large push never holds the daemon loop for long.
 * Same points as points.ts makes from prom-client's JSON view (which serves the process_* metrics here).
 */

import { ByteWriter } from "../metrics/byte-writer.ts";
import { FAMILIES, type FamilyKey, type FamilySpec } from "../metrics/families.ts";
import type { MetricsModel } from "../metrics/model.ts";
import type { FamilySnapshot } from "../metrics/registry.ts";
import { visitFamily, type LabelSet } from "../metrics/series.ts";
import { escapeKey, escapeMeasurement, formatPoint } from "./line-protocol.ts";
import { familyPoints } from "./points.ts";

const encoder = new TextEncoder();

function tags(spec: FamilySpec, labels: LabelSet): Uint8Array {
  if (labels.influxTags) return labels.influxTags;
  let text = "";
  spec.labels.forEach((name, i) => {
    const value = labels.values[i]!;
    if (value !== "") text += `,${escapeKey(name)}=${escapeKey(value)}`;
  });
  return (labels.influxTags = encoder.encode(text));
}

/** One family's points; `time` in seconds. Non-finite values are left out (line protocol has none). */
export function writeFamilyLines(model: MetricsModel, key: FamilyKey, time: number, out: ByteWriter): void {
  const spec: FamilySpec = FAMILIES[key];
  const measurement = encoder.encode(escapeMeasurement(spec.name));
  const end = encoder.encode(` ${Math.floor(time)}\n`);
  const value = encoder.encode(" value=");
  const write = (tagBytes: Uint8Array, field: Uint8Array, v: number) => {
    if (!Number.isFinite(v)) return;
    out.bytes(measurement);
    out.bytes(tagBytes);
    out.bytes(field);
    out.ascii(String(v));
    out.bytes(end);
  };
  if (!spec.buckets) {
    visitFamily(model, key, (labels, v) => write(tags(spec, labels), value, v as number));
    return;
  }
  const les = [...spec.buckets.map(String), "+Inf"].map((le) => encoder.encode(`,le=${escapeKey(le)}`));
  const bucket = encoder.encode(` ${escapeKey(`${spec.name}_bucket`)}=`);
  const sum = encoder.encode(` ${escapeKey(`${spec.name}_sum`)}=`);
  const count = encoder.encode(`,${escapeKey(`${spec.name}_count`)}=`);
  visitFamily(model, key, (labels, v) => {
    if (typeof v === "number") return;
    const tagBytes = tags(spec, labels);
    const cumulative = v.cumulative();
    les.forEach((le, i) => {
      out.bytes(measurement);
      out.bytes(tagBytes);
      out.bytes(le);
      out.bytes(bucket);
      out.ascii(String(cumulative[i]));
      out.bytes(end);
    });
    if (!Number.isFinite(v.sum)) return;
    out.bytes(measurement);
    out.bytes(tagBytes);
    out.bytes(sum);
    out.ascii(String(v.sum));
    out.bytes(count);
    out.ascii(String(v.count));
    out.bytes(end);
  });
}

/** Every family of the model, then the other metrics of the registry (process_*), as one request body. */
export async function influxBody(model: MetricsModel, others: () => Promise<FamilySnapshot[]>, time: number, pause: () => Promise<void>): Promise<Uint8Array> {
  const out = new ByteWriter(1 << 20);
  for (const key of Object.keys(FAMILIES) as FamilyKey[]) {
    writeFamilyLines(model, key, time, out);
    await pause();
  }
  for (const point of familyPoints(await others(), time)) {
    const line = formatPoint(point);
    if (line !== undefined) out.bytes(encoder.encode(`${line}\n`));
  }
  return out.result();
}
