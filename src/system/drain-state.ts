/**
 * The destinations left draining (plan/drain.ts), recorded in `system.state_dir/draining.json` so that a daemon
 * restart, or the next one-shot `apply --drain`, keeps each drain's start and deadline. Written atomically; a
 * corrupt file is an error naming it, never read as "nothing drains" (that would cut the drains' connections).
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";
import { readBounded } from "./bounded-read.ts";
import { StateFileError } from "./managed-vips.ts";

const FILE = "draining.json";
const MAX_BYTES = 16 * 1024 * 1024;

/** One draining destination as stored (the same shape as plan/drain.ts's DrainRecord; times are epoch ms). */
export interface StoredDrain {
  service: string;
  destination: string;
  name?: string;
  startedAt: number;
  deadline: number;
  serviceRemoved: boolean;
}

export function drainStateFile(stateDir: string): string {
  return join(stateDir, FILE);
}

export function readDrainState(stateDir: string): StoredDrain[] {
  const path = drainStateFile(stateDir);
  let text: string | undefined;
  try {
    text = readBounded(path, MAX_BYTES);
  } catch (error) {
    throw new StateFileError((error as Error).message);
  }
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StateFileError(`${path} is not valid JSON: fix or remove it (it lists the destinations left draining)`);
  }
  const draining = (parsed as { draining?: unknown }).draining;
  if (!Array.isArray(draining) || !draining.every(isStoredDrain)) {
    throw new StateFileError(`${path} must hold {"draining": [{service, destination, startedAt, deadline, serviceRemoved}]}: fix or remove it`);
  }
  return draining.map((d) => ({ ...d }));
}

/** Writes the records (an empty list when none is left: it reads as a missing file does). */
export function writeDrainState(stateDir: string, draining: readonly StoredDrain[]): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const sorted = [...draining].sort((a, b) => (a.service + a.destination).localeCompare(b.service + b.destination));
  writeFileAtomic(drainStateFile(stateDir), `${JSON.stringify({ draining: sorted }, null, 2)}\n`, { mode: 0o644 });
}

function isStoredDrain(value: unknown): value is StoredDrain {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d.service === "string" &&
    typeof d.destination === "string" &&
    (d.name === undefined || typeof d.name === "string") &&
    Number.isFinite(d.startedAt) &&
    Number.isFinite(d.deadline) &&
    typeof d.serviceRemoved === "boolean"
  );
}
