/** The daemon (its control socket answers) and its metrics listener (`GET /health` on bind:port, owned by lbctl). */

import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

export async function checkDaemon(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, probe } = ctx;
  if (!config) return [];
  const socket = config.main.daemon.socket;
  const running = await probe.daemonAnswers(socket);
  const results: CheckResult[] = [
    running
      ? pass("daemon", `the daemon answers on ${socket}`)
      : warn("daemon", `no daemon answers on ${socket} (daemon.socket): health checks, drift repair and VIP following are off`, "systemctl enable --now lbctl"),
  ];
  const prometheus = config.main.observability.metrics.prometheus;
  if (!prometheus.enabled) {
    results.push(pass("metrics", "observability.metrics.prometheus is disabled: nothing to check"));
    return results;
  }
  const host = prometheus.bind === "" || prometheus.bind === "0.0.0.0" ? "127.0.0.1" : prometheus.bind === "::" ? "::1" : prometheus.bind;
  const where = `${prometheus.bind || "*"}:${prometheus.port}`;
  const answer = await probe.httpHealth(host, prometheus.port);
  const owner = probe.tcpListenerOwner(prometheus.port);
  const ours = owner === undefined || owner === "lbctl" || owner.startsWith("bun");
  if (answer.ok && answer.status === 200 && ours) {
    results.push(pass("metrics", `${where} answers GET /health${owner ? ` (process ${owner})` : ""}`));
  } else if (answer.ok || (owner !== undefined && !ours)) {
    results.push(fail("metrics", `${where} is bound by ${owner ? `process ${owner}` : "another program"}${answer.ok ? ` (GET /health: HTTP ${answer.status})` : ""}, not by lbctl: the daemon cannot serve metrics there`, `stop that program or change observability.metrics.prometheus.port in ${ctx.configPath}`));
  } else if (running) {
    results.push(fail("metrics", `the daemon runs but nothing answers on ${where}: ${answer.error}`, "journalctl -u lbctl (the metrics listener failed)"));
  } else {
    results.push(warn("metrics", `nothing answers on ${where}: the daemon, which serves the metrics, is not running`, "systemctl enable --now lbctl"));
  }
  return results;
}
