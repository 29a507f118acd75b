/** The kubeconfig setting (`kubernetes.kubeconfig`) to credentials for the client: reads the files it names. */

import { readFileSync } from "node:fs";
import type { Credentials } from "./client.ts";
import { K8sError } from "./errors.ts";
import { inClusterTarget, parseKubeconfig, type Material } from "./kubeconfig.ts";

function read(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new K8sError("kubeconfig-unreadable", `cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
}

function pem(material: Material | undefined, what: string): string | undefined {
  if (!material) return undefined;
  return "pem" in material ? material.pem : read(material.file, what);
}

export function loadCredentials(kubeconfig: string, context: string, env: Record<string, string | undefined> = process.env): Credentials {
  const target = kubeconfig === "in-cluster" ? inClusterTarget(env) : parseKubeconfig(read(kubeconfig, "kubeconfig"), kubeconfig, context);
  const credentials: Credentials = { server: target.server, insecureSkipTlsVerify: target.insecureSkipTlsVerify };
  const ca = pem(target.ca, "certificate authority");
  if (ca) credentials.ca = ca;
  const cert = pem(target.clientCert, "client certificate");
  const key = pem(target.clientKey, "client key");
  if (cert && key) Object.assign(credentials, { cert, key });
  if (target.token) credentials.token = "value" in target.token ? target.token.value : read(target.token.file, "token file").trim();
  return credentials;
}
