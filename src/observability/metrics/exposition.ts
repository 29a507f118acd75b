/**
 * The Prometheus text format (0.0.4) of one family, written as bytes straight from the model: each backend's label
 * bytes are encoded once and copied, numbers are ASCII. Building one string of 100,000 lines and encoding it costs
 * several times more (the encoding, mostly).
 */

import { ByteWriter } from "./byte-writer.ts";
import { FAMILIES, type FamilyKey } from "./families.ts";
import type { MetricsModel } from "./model.ts";
import { visitFamily, type LabelSet } from "./series.ts";

const encoder = new TextEncoder();
const CLOSE_SPACE = encoder.encode("} ");

export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelBytes(labels: LabelSet): Uint8Array {
  return (labels.bytes ??= encoder.encode(labels.text));
}

export function writeFamily(model: MetricsModel, key: FamilyKey, out: ByteWriter): void {
  const spec = FAMILIES[key];
  out.bytes(encoder.encode(`# HELP ${spec.name} ${escapeHelp(spec.help)}\n# TYPE ${spec.name} ${spec.type}`));
  if (!("buckets" in spec)) {
    const open = encoder.encode(`\n${spec.name}{`);
    visitFamily(model, key, (labels, value) => out.line(open, labelBytes(labels), CLOSE_SPACE, value as number));
    return;
  }
  const bucket = encoder.encode(`\n${spec.name}_bucket{`);
  const sum = encoder.encode(`\n${spec.name}_sum{`);
  const count = encoder.encode(`\n${spec.name}_count{`);
  const les = [...spec.buckets.map(formatValue), "+Inf"].map((le) => encoder.encode(`,le="${le}"} `));
  visitFamily(model, key, (labels, value) => {
    if (typeof value === "number") return;
    const bytes = labelBytes(labels);
    const cumulative = value.cumulative();
    for (let i = 0; i < les.length; i++) out.line(bucket, bytes, les[i]!, cumulative[i]!);
    out.line(sum, bytes, CLOSE_SPACE, value.sum);
    out.line(count, bytes, CLOSE_SPACE, value.count);
  });
}

export function familyText(model: MetricsModel, key: FamilyKey): string {
  const out = new ByteWriter();
  writeFamily(model, key, out);
  return new TextDecoder().decode(out.result());
}
