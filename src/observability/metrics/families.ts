/**
 * The metric families of spec/metrics.md: exact names, types, label names and buckets. The contract lives here
 * once; the model fills it, the exposition renders it, docs and the dashboard test read it.
 */

export type FamilyType = "counter" | "gauge" | "histogram";

/** One series' labels: values in the family's label order, the same rendered as `name="value",…`, and its bytes. */
export interface LabelSet {
  readonly values: readonly string[];
  readonly text: string;
  /** UTF-8 of `text`, cached by whoever renders bytes. */
  bytes?: Uint8Array;
  /** The same labels as InfluxDB tags (`,name=value…`), cached by the InfluxDB encoder. */
  influxTags?: Uint8Array;
}

export interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/** spec/metrics.md: buckets of the health-check latency histogram. */
export const CHECK_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;
/** Not fixed by the spec: Prometheus's defaults with 1 ms in front (a reconcile without changes takes about that). */
export const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const BACKEND = ["node", "service", "backend"] as const;

export const FAMILIES = {
  vipIsOwner: { name: "lbctl_vip_is_owner", type: "gauge", labels: ["node", "vip"], help: "1 while this node holds the VIP on a local interface, else 0." },
  vipTransitions: {
    name: "lbctl_vip_transitions_total",
    type: "counter",
    labels: ["node", "vip", "direction"],
    help: "VIP ownership changes seen by the daemon (direction acquire or release).",
  },
  connectionSyncRunning: {
    name: "lbctl_connection_sync_running",
    type: "gauge",
    labels: ["node", "role"],
    help: "1 while the kernel's IPVS connection-sync daemon of the role (master or backup) runs for lbctl, else 0; absent when ha.connection_sync is off.",
  },
  bgpAnnounced: {
    name: "lbctl_bgp_announced",
    type: "gauge",
    labels: ["node", "vip"],
    help: "1 while this director announces the VIP over BGP (it can serve it), 0 while withdrawn; absent when bgp is off.",
  },
  reconcileRuns: { name: "lbctl_reconcile_runs_total", type: "counter", labels: ["node", "result"], help: "Reconciliations run, by result (success or failure)." },
  reconcileDuration: {
    name: "lbctl_reconcile_duration_seconds",
    type: "histogram",
    labels: ["node"],
    buckets: RECONCILE_BUCKETS,
    help: "Time one reconciliation took.",
  },
  backendHealthy: {
    name: "lbctl_health_backend_healthy",
    type: "gauge",
    labels: BACKEND,
    help: "1 when the backend's health checks say healthy, 0 when unhealthy or unknown; absent when checks are off.",
  },
  backendWeight: { name: "lbctl_health_backend_weight", type: "gauge", labels: BACKEND, help: "The backend's weight now in the kernel." },
  checkLatency: {
    name: "lbctl_health_check_latency_seconds",
    type: "histogram",
    labels: BACKEND,
    buckets: CHECK_LATENCY_BUCKETS,
    help: "Round-trip time of each health-check probe.",
  },
  connections: { name: "lbctl_ipvs_connections_total", type: "counter", labels: BACKEND, help: "Connections IPVS scheduled to the backend (all its destinations)." },
  connectionsActive: { name: "lbctl_ipvs_connections_active", type: "gauge", labels: BACKEND, help: "Active connections of the backend in IPVS now." },
  packetsIn: { name: "lbctl_ipvs_packets_in_total", type: "counter", labels: BACKEND, help: "Packets from clients IPVS forwarded to the backend." },
  packetsOut: { name: "lbctl_ipvs_packets_out_total", type: "counter", labels: BACKEND, help: "Packets from the backend IPVS forwarded back." },
  bytesIn: { name: "lbctl_ipvs_bytes_in_total", type: "counter", labels: BACKEND, help: "Bytes from clients IPVS forwarded to the backend." },
  bytesOut: { name: "lbctl_ipvs_bytes_out_total", type: "counter", labels: BACKEND, help: "Bytes from the backend IPVS forwarded back." },
  configReloads: {
    name: "lbctl_config_reloads_total",
    type: "counter",
    labels: ["node", "result"],
    help: "Config reloads, by result (success, failure, or refused over a change limit).",
  },
  backendDraining: {
    name: "lbctl_backend_draining",
    type: "gauge",
    labels: ["node", "virtual_service", "destination"],
    help: "1 for each destination removed from the config that still drains at weight 0 (absent once deleted).",
  },
  changeLimitHits: { name: "lbctl_change_limit_hits_total", type: "counter", labels: ["node", "limit"], help: "Reloads stopped by a change limit, by limit." },
  backendOverride: {
    name: "lbctl_backend_override",
    type: "gauge",
    labels: ["node", "service", "backend", "kind"],
    help: "The weight an operator's override (lbctl backend drain|weight, kind drain or weight) asks for; absent without one.",
  },
  backendSlowStart: {
    name: "lbctl_backend_slow_start",
    type: "gauge",
    labels: BACKEND,
    help: "1 while the backend's weight ramps up under slow start (health.slow_start_seconds); absent otherwise.",
  },
  serviceQuorum: {
    name: "lbctl_service_quorum",
    type: "gauge",
    labels: ["node", "service"],
    help: "1 while the service's live backends meet its quorum, 0 below it (sorry server active); only services with quorum or sorry_server.",
  },
  logRecordsDropped: {
    name: "lbctl_log_records_dropped_total",
    type: "counter",
    labels: ["node", "sink"],
    help: "Log and audit records dropped because a log destination's queue was full (sink console or gelf).",
  },
  // spec/kubernetes.md: series only while kubernetes.enabled.
  kubernetesConnected: {
    name: "lbctl_kubernetes_connected",
    type: "gauge",
    labels: ["node"],
    help: "1 while every watch on the Kubernetes API server works, 0 while it is unreachable (the last known Services stay).",
  },
  kubernetesPoolAddresses: {
    name: "lbctl_kubernetes_pool_addresses",
    type: "gauge",
    labels: ["node", "pool", "state"],
    help: "Addresses of a kubernetes.pools entry, by state (free or allocated to Services).",
  },
  kubernetesLeader: {
    name: "lbctl_kubernetes_leader",
    type: "gauge",
    labels: ["node"],
    help: "1 while this director holds the Kubernetes Lease (it writes status, finalizers and events), else 0.",
  },
  // Config replication (spec/controlplane.md "Metrics and audit"): series only while control_plane.enabled.
  controlPlaneConnected: {
    name: "lbctl_controlplane_connected",
    type: "gauge",
    labels: ["node", "peer"],
    help: "1 while the control-plane connection to the peer is up, else 0 (peer: its certificate CN; on a secondary, primary before the first handshake).",
  },
  controlPlaneUpdates: {
    name: "lbctl_controlplane_updates_total",
    type: "counter",
    labels: ["node", "result"],
    help: "Replicated config updates by result: applied, unchanged, refused (secondary); held (primary: an edit that did not validate, not pushed).",
  },
  controlPlaneLastSync: {
    name: "lbctl_controlplane_last_sync_timestamp_seconds",
    type: "gauge",
    labels: ["node"],
    help: "When this node last knew its service files to be the same as its peer's (Unix time).",
  },
  controlPlaneCertificateExpiry: {
    name: "lbctl_controlplane_certificate_expiry_timestamp_seconds",
    type: "gauge",
    labels: ["node", "certificate"],
    help: "When the control plane's certificate expires (Unix time; certificate local or ca).",
  },
} as const satisfies Record<string, FamilySpec>;

export type FamilyKey = keyof typeof FAMILIES;

/** Every metric name lbctl serves itself (prom-client adds the process_* ones). */
export function familyNames(): string[] {
  return Object.values(FAMILIES).map((family) => family.name);
}
