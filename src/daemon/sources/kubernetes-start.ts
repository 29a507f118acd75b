/**
 * Starts the Kubernetes source when the main file enables it, and waits (bounded) for its first full list, so the
 * daemon's first converge already holds the cluster's services instead of removing the ones the kernel has.
 */

import { loadConfig } from "../../config/load.ts";
import { kubernetesSource, type KubernetesSource } from "./kubernetes.ts";

export const FIRST_SYNC_TIMEOUT_MS = 10_000;

export async function startKubernetes(configFile: string, stderr: { write(text: string): unknown }): Promise<KubernetesSource | undefined> {
  const loaded = loadConfig(configFile);
  // An invalid config is reported by the daemon itself, with every error located.
  if (!loaded.ok || !loaded.config.main.kubernetes.enabled) return undefined;
  const log = (level: string, message: string) => stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  const source = kubernetesSource(loaded.config.main, {
    notice(notice) {
      if (notice.type === "connected") {
        log(notice.connected ? "INFO" : "WARN", notice.connected ? "Kubernetes API connected" : `Kubernetes API unreachable; serving the last known Services error="${notice.error ?? ""}"`);
      } else if (notice.type === "leader") {
        log("INFO", notice.leader ? "Kubernetes leader: writing status, finalizers and events" : "Kubernetes follower: programming only");
      } else {
        log("WARN", `Kubernetes write failed service=${notice.what} error="${notice.error}"`);
      }
    },
  });
  if (!(await source.synced(FIRST_SYNC_TIMEOUT_MS))) {
    log("WARN", `Kubernetes API not listed within ${FIRST_SYNC_TIMEOUT_MS / 1000} s: starting with the service files only`);
  }
  return source;
}
