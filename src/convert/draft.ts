/** A converted service before it becomes YAML: the service-file keys, plus where it came from and why. */

export interface DraftBackend {
  address: string;
  port: number;
  weight: number;
}

export interface DraftHealth {
  enabled: boolean;
  type?: "tcp" | "udp_echo" | "udp_dns" | "udp_sip" | "udp_ntp" | "http";
  port?: number;
  interval_ms?: number;
  timeout_ms?: number;
  fail_after?: number;
  recover_after?: number;
  payload?: string;
  expect?: string;
  dns_query?: string;
  dns_type?: string;
  payload_hex?: string;
  expect_hex?: string;
  http_path?: string;
  http_host?: string;
  http_status?: string;
  slow_start_seconds?: number;
}

export interface DraftService {
  name: string;
  protocol: "tcp" | "udp";
  vip?: string;
  ports: number[];
  port_ranges: Array<{ start: number; end: number }>;
  scheduler: string;
  mode?: "nat" | "dr" | "tun";
  persistence?: { timeout_seconds: number };
  backends: DraftBackend[];
  health: DraftHealth;
  quorum?: number;
  quorum_hysteresis?: number;
  /** `ADDR:PORT`, `[V6]:PORT`, or `ADDR` alone (each service port). */
  sorry_server?: string;
}

export interface ConvertedService {
  service: DraftService;
  /** `file:line` of the block the service came from, and what it was (for the file's header). */
  sources: string[];
  /** Header lines beyond generator/source/date: things the reader of the file must know. */
  notes: string[];
  /** Trailing comments by key path (`scheduler`, `health.interval_ms`, `backends[1].weight`). */
  comments: Map<string, string>;
}

/** A service name lbctl accepts ([A-Za-z0-9_.-]{1,64}) from an nginx/keepalived name: `postgres_cluster` → `postgres-cluster`. */
export function serviceName(raw: string): string {
  const name = raw
    .replace(/_/g, "-")
    .replace(/[^A-Za-z0-9.-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  return (name || "service").slice(0, 64).replace(/[-.]+$/, "");
}

/** Makes names unique in order: the second `web` becomes `web-2`. */
export function uniqueNames(services: readonly ConvertedService[], taken: ReadonlySet<string> = new Set()): void {
  const used = new Set(taken);
  for (const converted of services) {
    const base = converted.service.name;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base.slice(0, 60 - String(n).length)}-${n}`;
    if (name !== base) converted.notes.push(`Named ${name}: the name ${base} was taken by another converted service.`);
    converted.service.name = name;
    used.add(name);
  }
}
