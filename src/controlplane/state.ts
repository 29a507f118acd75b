/** The control plane's counters and gauges, read by the metrics exposition and `status --json`. */

import type { UpdateResult } from "./observer.ts";

export class ControlPlaneState {
  node = "";
  readonly connected = new Map<string, 0 | 1>();
  readonly updates = new Map<UpdateResult, number>();
  lastSync: number | undefined;
  certificateExpiry: { local?: number; ca?: number } = {};

  setConnected(peer: string, up: boolean): void {
    this.connected.set(peer, up ? 1 : 0);
  }

  count(result: UpdateResult): void {
    this.updates.set(result, (this.updates.get(result) ?? 0) + 1);
  }
}
