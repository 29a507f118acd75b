/**
 * Starts the Kubernetes source when the main file enables it, and waits (bounded) for its first full list, so the
 * daemon's first converge already holds the cluster's services instead of removing the ones the kernel has. Without
 * the API server, the services saved at the last run are served (kubernetes-state.ts).
 */

import { loadConfig } from "../../config/load.ts";
import type { DaemonEvent } from "../../observability/events.ts";
import { kubernetesSource, type KubernetesSource } from "./kubernetes.ts";

export const FIRST_SYNC_TIMEOUT_MS = 10_000;

/** `emit` gets the source's events (metrics, audit); without it they are written to `stderr` as log lines. */
export async function startKubernetes(
  configFile: string,
  stderr: { write(text: string): unknown },
  emit?: (event: DaemonEvent) => void,
): Promise<KubernetesSource | undefined> {
  const loaded = loadConfig(configFile);
  // An invalid config is reported by the daemon itself, with every error located.
  if (!loaded.ok || !loaded.config.main.kubernetes.enabled) return undefined;
  const log = (level: string, message: string) => stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  const source = kubernetesSource(loaded.config.main, { emit: emit ?? ((event) => logEvent(log, event)) });
  if (!(await source.synced(FIRST_SYNC_TIMEOUT_MS))) {
    const saved = source.controller.computed.length;
    log("WARN", `Kubernetes API not listed within ${FIRST_SYNC_TIMEOUT_MS / 1000} s: starting with the service files and ${saved} saved Kubernetes services`);
  }
  return source;
}

function logEvent(log: (level: string, message: string) => void, event: DaemonEvent): void {
  switch (event.type) {
    case "kubernetes-connection":
      return log(event.connected ? "INFO" : "WARN", event.connected ? "Kubernetes API connected" : `Kubernetes API unreachable; serving the last known Services error="${event.error ?? ""}"`);
    case "kubernetes-leader":
      return log("INFO", event.leader ? "Kubernetes leader: writing status, finalizers and events" : "Kubernetes follower: programming only");
    case "error":
      return log("WARN", event.message);
    default:
      return;
  }
}
