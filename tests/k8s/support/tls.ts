/**
 * A throw-away CA and a server certificate for 127.0.0.1, made with openssl for the fake API server, and client
 * certificates signed by that CA (the kube-apiserver's x509 authentication: CN is the user, O the groups).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ClientCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  caFile: string;
  cert: string;
  key: string;
  /** A client certificate (extendedKeyUsage clientAuth) for user `user`, signed by this CA. */
  clientCert(user: string, group?: string): ClientCertificate;
  remove(): void;
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-k8s-pki-"));
  const run = (args: string[]) => {
    const result = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr.toString()}`);
  };
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=fake-ca"]);
  run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  run(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf"]);
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  let issued = 0;
  const clientCert = (user: string, group = "system:masters"): ClientCertificate => {
    const name = `client-${++issued}`;
    writeFileSync(join(dir, "client.cnf"), "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
    run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=${group}/CN=${user}`]);
    run(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", "client.cnf"]);
    return { cert: read(`${name}.crt`), key: read(`${name}.key`), certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  };
  return { dir, ca: read("ca.crt"), caFile: join(dir, "ca.crt"), cert: read("server.crt"), key: read("server.key"), clientCert, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
