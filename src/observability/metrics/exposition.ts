/**
 * The Prometheus text format (0.0.4) of one family, written straight from the model (no per-series objects).
 * Strings are appended with `+=` (a rope, flattened once when encoded): joining an array of 100,000 lines costs
 * about ten times more.
 */

import { FAMILIES, type FamilyKey } from "./families.ts";
import type { MetricsModel } from "./model.ts";
import { visitFamily } from "./series.ts";

export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function familyText(model: MetricsModel, key: FamilyKey): string {
  const spec = FAMILIES[key];
  const name = spec.name;
  let text = `# HELP ${name} ${escapeHelp(spec.help)}\n# TYPE ${name} ${spec.type}`;
  const open = `\n${name}{`;
  const bucket = `\n${name}_bucket{`;
  const les = "buckets" in spec ? [...spec.buckets.map((le) => `,le="${formatValue(le)}"} `), `,le="+Inf"} `] : [];
  visitFamily(model, key, (_values, labels, value) => {
    if (typeof value === "number") {
      text += open + labels + "} " + formatValue(value);
      return;
    }
    const cumulative = value.cumulative();
    for (let i = 0; i < les.length; i++) text += bucket + labels + les[i] + cumulative[i];
    text += `\n${name}_sum{` + labels + "} " + formatValue(value.sum) + `\n${name}_count{` + labels + "} " + value.count;
  });
  return text;
}
