/**
 * `lbctl doctor`'s control-plane checks: the certificate files (readable, this node's certificate chains to the
 * CA, expiry: within 30 days warns, past fails), the key's permissions, and whether the listener (primary) or the
 * primary (secondary) accepts TCP connections. Reads the files and opens one TCP connection directly.
 */

import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { controlPlanePath } from "../../config/key-permissions.ts";
import type { CheckResult, DoctorContext } from "./types.ts";
import { fail, pass, warn } from "./types.ts";
import { splitHostPort } from "../../config/model.ts";

const WARN_DAYS = 30;
const DAY_MS = 86_400_000;
const NAME = "control plane";

export async function checkControlPlane(ctx: DoctorContext, now: Date = new Date()): Promise<CheckResult[]> {
  const config = ctx.config;
  if (!config?.main.control_plane.enabled) return [];
  const cp = config.main.control_plane;
  const results: CheckResult[] = [];
  const paths = { cert: controlPlanePath(config.mainFile, cp.tls.cert), key: controlPlanePath(config.mainFile, cp.tls.key), ca: controlPlanePath(config.mainFile, cp.tls.ca) };
  const certs: Partial<Record<"cert" | "ca", X509Certificate>> = {};
  for (const which of ["cert", "ca"] as const) {
    try {
      certs[which] = new X509Certificate(readFileSync(paths[which]));
    } catch (error) {
      results.push(fail(NAME, `tls.${which} ${paths[which]}: ${(error as Error).message}`, `lbctl setup certs --output-dir ${paths[which].replace(/\/[^/]+$/, "")} (or fix the path)`));
    }
  }
  try {
    readFileSync(paths.key);
    const mode = statSync(paths.key).mode & 0o777;
    results.push(mode & 0o077 ? fail(NAME, `tls.key ${paths.key} has mode ${mode.toString(8).padStart(4, "0")}: readable beyond its owner`, `chmod 600 ${paths.key}`) : pass(NAME, `tls.key ${paths.key} is readable by its owner only`));
  } catch (error) {
    results.push(fail(NAME, `tls.key ${paths.key}: ${(error as Error).message}`, "fix the path or the file's owner"));
  }
  const { cert, ca } = certs;
  if (cert && ca) {
    const chained = cert.checkIssued(ca) && cert.verify(ca.publicKey);
    results.push(chained ? pass(NAME, `${paths.cert} chains to ${paths.ca}`) : fail(NAME, `${paths.cert} was not issued by ${paths.ca}: peers will refuse it`, "issue it from this CA (lbctl setup certs --add-secondary NAME) or point tls.ca at its issuer"));
  }
  for (const [which, certificate] of Object.entries(certs) as ["cert" | "ca", X509Certificate][]) {
    const left = (certificate.validToDate.getTime() - now.getTime()) / DAY_MS;
    const what = `tls.${which} ${paths[which]} expires ${certificate.validTo}`;
    if (left < 0) results.push(fail(NAME, `${what}: expired, peers refuse it`, "issue a new certificate (lbctl setup certs)"));
    else if (left <= WARN_DAYS) results.push(warn(NAME, `${what}: in ${Math.floor(left)} days`, "issue a new certificate before then (lbctl setup certs)"));
    else results.push(pass(NAME, `${what} (in ${Math.floor(left)} days)`));
  }
  const target = splitHostPort(cp.mode === "secondary" ? cp.primary_address : cp.listen_address);
  const host = target.host === "0.0.0.0" ? "127.0.0.1" : target.host === "::" ? "::1" : target.host;
  const reached = await tcpReachable(host, target.port, 2000);
  const where = cp.mode === "secondary" ? `the primary at ${host}:${target.port}` : `the listener at ${host}:${target.port}`;
  results.push(reached === true ? pass(NAME, `${where} accepts connections`) : warn(NAME, `${where} cannot be reached: ${reached}`, cp.mode === "secondary" ? "check the primary's daemon and the firewall (docs/control-plane.md)" : "start the daemon (lbctl apply --daemon)"));
  return results;
}

function tcpReachable(host: string, port: number, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => (socket.destroy(), resolve(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => (clearTimeout(timer), socket.destroy(), resolve(true)));
    socket.once("error", (error) => (clearTimeout(timer), resolve(error.message)));
  });
}
