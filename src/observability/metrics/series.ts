/**
 * The series of each family, read from the model. One visitor serves both the fast text exposition and
 * prom-client's JSON view (InfluxDB), so both always list the same series.
 */

import { FAMILIES, type FamilyKey, type LabelSet } from "./families.ts";
import type { HistogramCounts } from "./histogram.ts";
import type { BackendMetrics, MetricsModel } from "./model.ts";
import { COUNTER_KEYS, type CounterKey } from "./traffic.ts";

export type SeriesValue = number | HistogramCounts;

export type { LabelSet } from "./families.ts";

export type Visit = (labels: LabelSet, value: SeriesValue) => void;

/** A label value as the Prometheus text format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : value;
}

export function labelText(names: readonly string[], values: readonly string[]): string {
  let text = "";
  for (let i = 0; i < names.length; i++) text += `${i ? "," : ""}${names[i]}="${escapeLabelValue(values[i]!)}"`;
  return text;
}

const BACKEND_LABELS = FAMILIES.backendWeight.labels;

/** The backend's labels, rebuilt only when the node name changes. */
function backendLabels(b: BackendMetrics, node: string): LabelSet {
  if (b.labelNode !== node || !b.labels) {
    const values = [node, b.service, b.backend];
    b.labels = { values, text: labelText(BACKEND_LABELS, values) };
    b.labelNode = node;
  }
  return b.labels;
}

function visitBackends(model: MetricsModel, value: (b: BackendMetrics) => SeriesValue | undefined, visit: Visit): void {
  const node = model.node;
  for (const b of model.backendList) {
    const v = value(b);
    if (v === undefined) continue;
    visit(b.labelNode === node && b.labels ? b.labels : backendLabels(b, node), v);
  }
}

function visitPlain(names: readonly string[], rows: Iterable<[string[], SeriesValue]>, visit: Visit): void {
  for (const [values, value] of rows) visit({ values, text: labelText(names, values) }, value);
}

function counter(key: CounterKey): (b: BackendMetrics) => number | undefined {
  const index = COUNTER_KEYS.indexOf(key);
  return (b) => b.traffic?.totals[index];
}

export function visitFamily(model: MetricsModel, key: FamilyKey, visit: Visit): void {
  const node = model.node;
  const labels = FAMILIES[key].labels;
  switch (key) {
    case "vipIsOwner":
      return visitPlain(labels, [...model.vips].map(([vip, v]) => [[node, vip], v.owner]), visit);
    case "vipTransitions":
      return visitPlain(
        labels,
        [...model.vips].flatMap(([vip, v]): [string[], number][] => [
          [[node, vip, "acquire"], v.acquire],
          [[node, vip, "release"], v.release],
        ]),
        visit,
      );
    case "connectionSyncRunning":
      return visitPlain(labels, [...model.connectionSync].map(([role, running]) => [[node, role], running]), visit);
    case "bgpAnnounced":
      return visitPlain(labels, [...model.bgpAnnounced].map(([vip, announced]) => [[node, vip], announced]), visit);
    case "reconcileRuns":
      return visitPlain(labels, Object.entries(model.reconcileRuns).map(([result, n]) => [[node, result], n]), visit);
    case "reconcileDuration":
      return visitPlain(labels, [[[node], model.reconcileDuration]], visit);
    case "configReloads":
      return visitPlain(labels, Object.entries(model.configReloads).map(([result, n]) => [[node, result], n]), visit);
    case "changeLimitHits":
      return visitPlain(labels, [...model.changeLimitHits].map(([limit, n]) => [[node, limit], n]), visit);
    case "backendDraining":
      return visitPlain(labels, [...model.draining.values()].map(([service, destination]) => [[node, service, destination], 1]), visit);
    case "logRecordsDropped":
      return visitPlain(labels, [...model.logRecordsDropped].map(([sink, n]) => [[node, sink], n]), visit);
    case "kubernetesConnected":
    case "kubernetesLeader":
    case "kubernetesPoolAddresses":
      return visitPlain(labels, model.kubernetes.series(key).map(([values, n]) => [[node, ...values], n]), visit);
    case "controlPlaneConnected":
      return visitPlain(labels, [...(model.controlPlane?.connected ?? [])].map(([peer, up]) => [[node, peer], up]), visit);
    case "controlPlaneUpdates":
      return visitPlain(labels, [...(model.controlPlane?.updates ?? [])].map(([result, n]) => [[node, result], n]), visit);
    case "controlPlaneLastSync": {
      const at = model.controlPlane?.lastSync;
      return visitPlain(labels, at === undefined ? [] : [[[node], at]], visit);
    }
    case "controlPlaneCertificateExpiry": {
      const expiry = model.controlPlane?.certificateExpiry;
      return visitPlain(labels, expiry ? [[[node, "local"], expiry.local], [[node, "ca"], expiry.ca]] : [], visit);
    }
    case "backendOverride":
      return visitPlain(labels, [...model.overrides.values()].map((o) => [[node, o.service, o.backend, o.kind], o.weight]), visit);
    case "serviceQuorum":
      return visitPlain(labels, [...model.quorum].map(([service, up]) => [[node, service], up]), visit);
    case "backendSlowStart":
      return visitPlain(labels, [...model.slowStarts.values()].map((r) => [[node, r.service, r.backend], 1]), visit);
    case "backendHealthy":
      return visitBackends(model, (b) => b.healthy, visit);
    case "backendWeight":
      return visitBackends(model, (b) => b.weight, visit);
    case "checkLatency":
      return visitBackends(model, (b) => b.latency, visit);
    case "connectionsActive":
      return visitBackends(model, (b) => b.traffic?.active, visit);
    case "connections":
      return visitBackends(model, counter("connections"), visit);
    case "packetsIn":
      return visitBackends(model, counter("packetsIn"), visit);
    case "packetsOut":
      return visitBackends(model, counter("packetsOut"), visit);
    case "bytesIn":
      return visitBackends(model, counter("bytesIn"), visit);
    case "bytesOut":
      return visitBackends(model, counter("bytesOut"), visit);
  }
}
