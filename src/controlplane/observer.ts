/** What the control plane reports: audit records, log lines and the metrics' inputs. The daemon wires it. */

export type ControlPlaneAuditEvent =
  | "controlplane_connected"
  | "controlplane_disconnected"
  | "controlplane_handshake_refused"
  | "controlplane_update_pushed"
  | "controlplane_update_held"
  | "controlplane_update_applied"
  | "controlplane_update_refused";

export type UpdateResult = "applied" | "unchanged" | "refused" | "held";

export interface ControlPlaneObserver {
  audit(event: ControlPlaneAuditEvent, level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>): void;
  log(level: "info" | "warn" | "error", message: string): void;
  connected(peer: string, up: boolean): void;
  update(result: UpdateResult): void;
  synced(atSeconds: number): void;
}

/** A peer as `status --json` shows it. */
export interface PeerStatus {
  peer: string;
  address: string;
  connected: boolean;
  last_sync: string | null;
  digest: string | null;
}

export interface ControlPlaneStatus {
  mode: "primary" | "secondary";
  digest: string | null;
  peers: PeerStatus[];
}
