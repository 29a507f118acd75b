/**
 * lbctl's own prom-client Registry: every family of spec/metrics.md, backed by the model, plus prom-client's
 * process_* collectors (CPU, memory, file descriptors, start time) and none of its nodejs_* ones.
 *
 * prom-client formats label sets one object at a time, which takes seconds for 100,000 series; lbctl's families
 * render their own text (exposition.ts) and prom-client formats the few process_* series.
 */

import { Registry, type Metric } from "prom-client";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import { ExpositionCache, type Exposition } from "./exposition-cache.ts";
import { formatValue } from "./exposition.ts";
import { FAMILIES, type FamilyKey, type FamilySpec } from "./families.ts";
import type { MetricsModel } from "./model.ts";
import { visitFamily } from "./series.ts";

/** One sample as prom-client's JSON view has it (histograms as `_bucket` with `le`, `_sum`, `_count`). */
export interface SampleValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export interface FamilySnapshot {
  name: string;
  help: string;
  type: string;
  values: SampleValue[];
}

/** A family as prom-client's Registry sees a metric: name, help, type, get(), reset(). */
class ModelFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator = "sum";

  constructor(
    readonly key: FamilyKey,
    private readonly model: MetricsModel,
  ) {
    const spec: FamilySpec = FAMILIES[key];
    this.name = spec.name;
    this.help = spec.help;
    this.type = spec.type;
  }

  async get(): Promise<FamilySnapshot> {
    const spec: FamilySpec = FAMILIES[this.key];
    const values: SampleValue[] = [];
    visitFamily(this.model, this.key, (labelSet, value) => {
      const labels = Object.fromEntries(spec.labels.map((name, i) => [name, labelSet.values[i]!]));
      if (typeof value === "number") {
        values.push({ value, labels });
        return;
      }
      const cumulative = value.cumulative();
      const les = [...(spec.buckets ?? []).map(formatValue), "+Inf"];
      les.forEach((le, i) => values.push({ value: cumulative[i]!, labels: { ...labels, le }, metricName: `${spec.name}_bucket` }));
      values.push({ value: value.sum, labels, metricName: `${spec.name}_sum` }, { value: value.count, labels, metricName: `${spec.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, values };
  }

  reset(): void {}
}

export interface MetricsRegistry {
  readonly registry: Registry;
  readonly contentType: string;
  /**
   * The whole exposition as served on the metrics path: lbctl's families from the cache (rendered again only when
   * changed; after a stats sample, ahead of the scrape), prom-client's process_* ones rendered each time. Every
   * change made before the call is in it, except a stats sample still being rendered ahead: until that is done, the
   * sample's families are served as they were just before it (ExpositionCache).
   */
  scrape(): Promise<Exposition>;
  /** Resolves when no render ahead is pending: the next scrape has every change made before it. */
  settled(): Promise<void>;
  /** The same as text, for tests and tools. */
  scrapeText(): Promise<string>;
  /** Every family with its samples (prom-client's JSON view). */
  snapshot(): Promise<FamilySnapshot[]>;
  /** The same, for the metrics that are not the model's (process_*). */
  otherSnapshot(): Promise<FamilySnapshot[]>;
}

export function createMetricsRegistry(model: MetricsModel, options: { processMetrics?: boolean } = {}): MetricsRegistry {
  const registry = new Registry();
  const families = (Object.keys(FAMILIES) as FamilyKey[]).map((key) => new ModelFamily(key, model));
  // ModelFamily has what Registry uses of a metric (name, help, type, aggregator, get, reset); its typings list only
  // prom-client's own classes.
  for (const family of families) registry.registerMetric(family as unknown as Metric);
  const ownFamilies = new Map(families.map((family) => [family.name, family]));
  const cache = new ExpositionCache(model, families.map((family) => family.key));
  model.onStatsSample((change) => cache.renderAhead(change));
  const encoder = new TextEncoder();
  if (options.processMetrics ?? true) {
    for (const register of [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors]) register(registry, {});
  }
  return {
    registry,
    contentType: registry.contentType,
    async scrape() {
      // Taken before the next await: one state of the model, whatever events arrive while process_* are read.
      const rendered = await cache.served();
      let tail = "";
      for (const metric of registry.getMetricsAsArray()) {
        if (ownFamilies.has(metric.name)) continue;
        tail += `${rendered.length > 0 || tail ? "\n\n" : ""}${await registry.getSingleMetricAsString(metric.name)}`;
      }
      return cache.exposition(rendered, encoder.encode(`${tail}\n`));
    },
    settled: () => cache.settled(),
    async scrapeText() {
      return new TextDecoder().decode((await this.scrape()).plain());
    },
    async snapshot() {
      return (await registry.getMetricsAsJSON()) as unknown as FamilySnapshot[];
    },
    async otherSnapshot() {
      const others = registry.getMetricsAsArray().filter((metric) => !ownFamilies.has(metric.name));
      return (await Promise.all(others.map((metric) => (metric as unknown as Metric).get()))) as unknown as FamilySnapshot[];
    },
  };
}
