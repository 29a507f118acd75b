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

/** Fields of an audit record: the peer (identity.ts `peerFields`), digest, files (lists), reason, code. */
export type AuditFields = Record<string, string | number | boolean | string[] | null | undefined>;

export interface ControlPlaneObserver {
  audit(event: ControlPlaneAuditEvent, level: "info" | "warn" | "error", message: string, fields: AuditFields): void;
  log(level: "info" | "warn" | "error", message: string): void;
  /** The control plane runs: its side and when this node's certificate and the CA expire. */
  started(mode: "primary" | "secondary", certificateExpiry: { local: Date; ca: Date }): void;
  /** A peer (its certificate CN; `primary` on a secondary before the first handshake) is connected or not. */
  connected(peer: string, up: boolean): void;
  /** A peer name that no longer applies: the secondary's `primary` placeholder once the primary's CN is known. */
  peerGone(peer: string): void;
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
