/**
 * Run inside a fresh network namespace (`unshare -n`) by announce-routes.test.ts: drives NetlinkAnnouncementRoutes
 * through the changes the daemon makes and prints, after each step, what lbctl lists and what `ip` (the independent
 * check) shows, as one JSON document.
 */

import { NetlinkAnnouncementRoutes } from "../../../src/system/announce-routes.ts";

function ip(...args: string[]): string {
  const run = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${run.stderr}`);
  return run.stdout.toString();
}

/** Every route of protocol 250 as `ip` shows it: "type dst table scope dev". */
function shown(): string[] {
  const lines: string[] = [];
  for (const family of ["-4", "-6"]) {
    const routes = JSON.parse(ip("-j", "-d", family, "route", "show", "table", "all", "proto", "250") || "[]") as Record<string, string>[];
    for (const r of routes) lines.push(`${r.type} ${r.dst} ${r.table ?? "main"} ${r.scope ?? "universe"} ${r.dev}`);
  }
  return lines.sort();
}

ip("link", "set", "lo", "up");
const routes = new NetlinkAnnouncementRoutes();
const steps: Record<string, unknown> = {};
const record = (name: string) => {
  steps[name] = { main: routes.list().sort(), local: routes.listLocal().sort(), ip: shown() };
};

record("empty");
routes.addLocal("192.0.2.10");
routes.addLocal("2001:db8::10");
routes.add("192.0.2.10");
routes.add("2001:db8::10");
routes.add("192.0.2.10"); // a second add of the same route (replace) is no error
record("announced");
// Someone else's routes for the same VIPs: lbctl neither lists nor deletes them.
ip("route", "add", "192.0.2.10/32", "dev", "lo", "table", "100", "proto", "static");
ip("route", "add", "192.0.2.11/32", "dev", "lo", "proto", "static");
routes.remove("192.0.2.10");
routes.remove("192.0.2.10"); // already gone: no error
record("withdrawn");
const foreign = ip("-4", "route", "show", "table", "all", "proto", "static").trim().split("\n").sort();
let refused = "";
try {
  routes.remove("192.0.2.11"); // another protocol's route is not lbctl's to delete: left alone, reported as absent
} catch (error) {
  refused = (error as Error).message;
}
routes.removeLocal("192.0.2.10");
routes.remove("2001:db8::10");
routes.removeLocal("2001:db8::10");
record("cleared");
// The same routes made by `ip` itself (what the daemon ran before it spoke netlink): `ip` must show no difference.
for (const [flag, vip, prefix] of [["-4", "192.0.2.10", "32"], ["-6", "2001:db8::10", "128"]] as const) {
  ip(flag, "route", "replace", "local", `${vip}/${prefix}`, "dev", "lo", "table", "local", "proto", "250");
  ip(flag, "route", "replace", `${vip}/${prefix}`, "dev", "lo", "table", "main", "proto", "250");
}
const byIp = shown();
routes.close();
console.log(JSON.stringify({ steps, byIp, foreign, refused, foreignAfter: ip("-4", "route", "show", "table", "all", "proto", "static").trim().split("\n").sort() }));
