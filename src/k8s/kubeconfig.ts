/**
 * A kubeconfig file to the one cluster endpoint and credentials lbctl uses: the server, its CA, and a bearer token
 * (inline or a file) or a client certificate and key (inline base64 data or files). Pure: file references are
 * returned resolved against the kubeconfig's folder, and the shell (connection.ts) reads them.
 */

import { parse } from "yaml";
import { K8sError } from "./errors.ts";

/** PEM text given inline, or a file to read. */
export type Material = { pem: string } | { file: string };

export interface ClusterTarget {
  server: string;
  ca?: Material;
  insecureSkipTlsVerify: boolean;
  token?: { value: string } | { file: string };
  clientCert?: Material;
  clientKey?: Material;
  /** Where the settings came from, for messages. */
  origin: string;
}

type Named<T> = { name?: unknown; [key: string]: unknown } & Partial<Record<string, T>>;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function find(list: unknown, key: "cluster" | "user" | "context", name: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = (list as Named<unknown>[]).find((item) => record(item)?.name === name);
  return record(entry?.[key]);
}

function resolvePath(dir: string, path: string): string {
  return path.startsWith("/") ? path : `${dir.replace(/\/$/, "")}/${path}`;
}

function material(source: Record<string, unknown>, dataKey: string, fileKey: string, dir: string): Material | undefined {
  const data = source[dataKey];
  if (typeof data === "string" && data !== "") return { pem: Buffer.from(data, "base64").toString("utf8") };
  const file = source[fileKey];
  if (typeof file === "string" && file !== "") return { file: resolvePath(dir, file) };
  return undefined;
}

/**
 * `text` is the kubeconfig, `file` its path (for messages and relative paths), `context` the one to use (empty:
 * `current-context`).
 */
export function parseKubeconfig(text: string, file: string, context = ""): ClusterTarget {
  const fail = (message: string): never => {
    throw new K8sError("kubeconfig-invalid", `${file}: ${message}`);
  };
  let doc: Record<string, unknown> | undefined;
  try {
    doc = record(parse(text));
  } catch (error) {
    fail(`not valid YAML: ${(error as Error).message}`);
  }
  if (!doc) return fail("is not a kubeconfig (expected a mapping with clusters, users and contexts)");
  const contextName = context || (typeof doc["current-context"] === "string" ? (doc["current-context"] as string) : "");
  if (!contextName) fail("names no current-context; set kubernetes.context");
  const ctx = find(doc.contexts, "context", contextName) ?? fail(`has no context "${contextName}"`);
  const clusterName = String(ctx.cluster ?? "");
  const cluster = find(doc.clusters, "cluster", clusterName) ?? fail(`context "${contextName}" names cluster "${clusterName}", which is not defined`);
  const server = typeof cluster.server === "string" ? cluster.server : "";
  if (!/^https?:\/\/[^\s/]+/.test(server)) fail(`cluster "${clusterName}" has no server URL (https://HOST:PORT), got ${JSON.stringify(cluster.server ?? null)}`);
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) || "/" : ".";
  const userName = typeof ctx.user === "string" ? ctx.user : "";
  const user = userName ? (find(doc.users, "user", userName) ?? fail(`context "${contextName}" names user "${userName}", which is not defined`)) : {};
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    fail(`user "${userName}" uses an exec or auth-provider plugin, which lbctl does not run: use a token, a token file or a client certificate`);
  }
  const target: ClusterTarget = {
    server: server.replace(/\/$/, ""),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    origin: `${file} (context ${contextName})`,
  };
  const ca = material(cluster, "certificate-authority-data", "certificate-authority", dir);
  if (ca) target.ca = ca;
  if (typeof user.token === "string" && user.token !== "") target.token = { value: user.token };
  else if (typeof user.tokenFile === "string" && user.tokenFile !== "") target.token = { file: resolvePath(dir, user.tokenFile) };
  const cert = material(user, "client-certificate-data", "client-certificate", dir);
  const key = material(user, "client-key-data", "client-key", dir);
  if ((cert === undefined) !== (key === undefined)) fail(`user "${userName}" has a client certificate without its key, or a key without its certificate`);
  if (cert && key) {
    target.clientCert = cert;
    target.clientKey = key;
  }
  if (server.startsWith("http://") && (target.token || target.clientCert)) {
    fail(`cluster "${clusterName}" is plain http: credentials are only sent over https`);
  }
  return target;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** `kubeconfig: in-cluster`: the service account of a pod (KUBERNETES_SERVICE_HOST/PORT). */
export function inClusterTarget(env: Record<string, string | undefined>): ClusterTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new K8sError("kubeconfig-invalid", 'kubeconfig "in-cluster" needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (lbctl is not running in a pod)');
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: { file: `${SERVICE_ACCOUNT_DIR}/ca.crt` },
    token: { file: `${SERVICE_ACCOUNT_DIR}/token` },
    insecureSkipTlsVerify: false,
    origin: "in-cluster service account",
  };
}
