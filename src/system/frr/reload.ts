/** Reloading FRR after its config changed: through systemd when it runs FRR, else FRR's own init script. */

import { existsSync, readdirSync, readFileSync } from "node:fs";

export type ReloadOutcome = { reloaded: true; how: string } | { reloaded: false; reason: string; error?: string };

function frrRunning(): boolean {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm === "zebra" || comm === "watchfrr") return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

function run(argv: string[]): { ok: boolean; output: string } {
  try {
    const proc = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    return { ok: proc.exitCode === 0, output: `${proc.stdout}${proc.stderr}`.trim() };
  } catch (error) {
    return { ok: false, output: (error as Error).message };
  }
}

export function reloadFrr(): ReloadOutcome {
  if (!frrRunning()) return { reloaded: false, reason: "FRR is not running: the new config takes effect when it starts" };
  if (existsSync("/run/systemd/system") && run(["systemctl", "is-active", "--quiet", "frr"]).ok) {
    const result = run(["systemctl", "reload", "frr"]);
    return result.ok ? { reloaded: true, how: "systemctl reload frr" } : { reloaded: false, reason: "systemctl reload frr failed", error: result.output };
  }
  for (const script of ["/usr/lib/frr/frrinit.sh", "/usr/libexec/frr/frrinit.sh"]) {
    if (!existsSync(script)) continue;
    const result = run([script, "reload"]);
    return result.ok ? { reloaded: true, how: `${script} reload` } : { reloaded: false, reason: `${script} reload failed`, error: result.output };
  }
  return { reloaded: false, reason: "FRR runs, but neither systemd nor frrinit.sh manages it: reload it the way it was started" };
}
