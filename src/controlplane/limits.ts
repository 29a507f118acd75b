/** The control plane's limits (spec/controlplane.md "Keys", `control_plane.limits`), with the spec's defaults. */

export interface ControlPlaneLimits {
  max_message_bytes: number;
  max_files: number;
  max_updates_per_minute: number;
  max_connections_per_minute: number;
  handshake_timeout_ms: number;
}

export const DEFAULT_LIMITS: ControlPlaneLimits = {
  max_message_bytes: 16 * 1024 * 1024,
  max_files: 1000,
  max_updates_per_minute: 60,
  max_connections_per_minute: 30,
  handshake_timeout_ms: 5000,
};

/** A connection with no message (not even a `config.sync`) for this long is closed: three sync periods. */
export function idleTimeoutMs(syncIntervalSeconds: number): number {
  return Math.max(10_000, syncIntervalSeconds * 3 * 1000);
}
