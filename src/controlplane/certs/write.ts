/**
 * Writes an issued PKI: keys 0600, certificates 0644, each file atomically; refuses to replace any existing file
 * unless forced, and checks that before writing the first one (a refusal writes nothing).
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../system/atomic-file.ts";
import { CertsPlanError, planCerts, type CertsRequest } from "./plan.ts";

export interface WrittenFile {
  path: string;
  mode: number;
}

export async function writeCerts(outputDir: string, request: CertsRequest, force: boolean): Promise<WrittenFile[]> {
  const plan = planCerts(request);
  const targets: WrittenFile[] = [];
  if (plan.newAuthority) targets.push({ path: join(outputDir, "ca.crt"), mode: 0o644 }, { path: join(outputDir, "ca.key"), mode: 0o600 });
  for (const leaf of plan.leaves) targets.push({ path: join(outputDir, leaf.certFile), mode: 0o644 }, { path: join(outputDir, leaf.keyFile), mode: 0o600 });
  const existing = targets.filter((target) => existsSync(target.path)).map((target) => target.path);
  if (existing.length > 0 && !force) {
    throw new Error(`would overwrite ${existing.join(", ")}; nothing written (use --force to replace them)`);
  }

  // The X.509 library loads here only: `lbctl --version` and the daemon never pay for it.
  const { createAuthority, issueLeaf, loadAuthority } = await import("./issue.ts");
  const files = new Map<string, string>();
  let authority;
  if (plan.newAuthority) {
    const created = await createAuthority("lbctl control plane CA");
    files.set("ca.crt", created.certPem).set("ca.key", created.keyPem);
    authority = created;
  } else {
    const caCert = join(outputDir, "ca.crt");
    const caKey = join(outputDir, "ca.key");
    if (!existsSync(caCert) || !existsSync(caKey)) throw new CertsPlanError(`--add-secondary needs the existing CA: ${caCert} and ${caKey}`);
    authority = await loadAuthority(readFileSync(caCert, "utf8"), readFileSync(caKey, "utf8"));
  }
  for (const leaf of plan.leaves) {
    const issued = await issueLeaf(authority, { name: leaf.name, usage: leaf.usage, altNames: leaf.altNames, days: request.days });
    files.set(leaf.certFile, issued.certPem).set(leaf.keyFile, issued.keyPem);
  }
  mkdirSync(outputDir, { recursive: true, mode: 0o700 });
  for (const target of targets) {
    const name = target.path.slice(outputDir.length).replace(/^\/+/, "");
    writeFileAtomic(target.path, files.get(name)!, { mode: target.mode });
  }
  return targets;
}
