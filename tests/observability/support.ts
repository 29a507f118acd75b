/** Event builders for observability tests. */

import type { DaemonEvent, DestinationSample, ServiceInventory } from "../../src/observability/events.ts";

export function configLoaded(inventory: ServiceInventory[], options: { startup?: boolean; node?: string; hash?: string; previousHash?: string } = {}): DaemonEvent {
  return {
    type: "config-loaded",
    startup: options.startup ?? true,
    hash: options.hash ?? "a".repeat(64),
    ...(options.previousHash ? { previousHash: options.previousHash } : {}),
    files: ["/etc/lbctl/config.yaml"],
    services: inventory.length,
    backends: inventory.reduce((n, s) => n + s.backends.length, 0),
    node: options.node ?? "lb-a",
    inventory,
  };
}

export function sample(service: string, backend: string, port: number, counters: Partial<DestinationSample> = {}): DestinationSample {
  return {
    service,
    backend,
    virtualService: `tcp:192.0.2.10:${port}`,
    destination: `${backend.replace(/:\d+$/, "")}:${port}`,
    connections: 0,
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    activeConnections: 0,
    inactiveConnections: 0,
    weight: 1,
    ...counters,
  };
}

/** Parses Prometheus text into series lines: `name{labels}` → value (comments skipped). */
export function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`Not an exposition line: ${line}`);
    series.set(`${match[1]}${match[2] ?? ""}`, match[3] === "+Inf" ? Infinity : Number(match[3]));
  }
  return series;
}
