/** kubeconfig files as kubectl writes them → the server and credentials lbctl uses. */

import { expect, test } from "bun:test";
import { inClusterTarget, parseKubeconfig } from "../../src/k8s/kubeconfig.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const config = (user: string, cluster = "    server: https://10.0.0.1:6443\n    certificate-authority-data: " + b64("CA PEM")) => `apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: prod
  context: { cluster: c1, user: u1 }
- name: other
  context: { cluster: c2, user: u2 }
clusters:
- name: c1
  cluster:
${cluster}
- name: c2
  cluster:
    server: https://other:6443
    certificate-authority: ca.crt
users:
- name: u1
  user:
${user}
- name: u2
  user:
    client-certificate: certs/client.crt
    client-key: /abs/client.key
`;

test("token and inline CA from the current context", () => {
  const target = parseKubeconfig(config("    token: abc.def"), "/etc/lbctl/kubeconfig");
  expect(target).toEqual({
    server: "https://10.0.0.1:6443",
    ca: { pem: "CA PEM" },
    token: { value: "abc.def" },
    insecureSkipTlsVerify: false,
    origin: "/etc/lbctl/kubeconfig (context prod)",
  });
});

test("inline client certificate data", () => {
  const target = parseKubeconfig(config(`    client-certificate-data: ${b64("CERT")}\n    client-key-data: ${b64("KEY")}`), "/k");
  expect(target.clientCert).toEqual({ pem: "CERT" });
  expect(target.clientKey).toEqual({ pem: "KEY" });
  expect(target.token).toBeUndefined();
});

test("another context; files relative to the kubeconfig's folder", () => {
  const target = parseKubeconfig(config("    token: x"), "/etc/lbctl/kubeconfig", "other");
  expect(target.server).toBe("https://other:6443");
  expect(target.ca).toEqual({ file: "/etc/lbctl/ca.crt" });
  expect(target.clientCert).toEqual({ file: "/etc/lbctl/certs/client.crt" });
  expect(target.clientKey).toEqual({ file: "/abs/client.key" });
});

test("token file", () => {
  expect(parseKubeconfig(config("    tokenFile: tok"), "/etc/k/config").token).toEqual({ file: "/etc/k/tok" });
});

test.each([
  ["an unknown context", () => parseKubeconfig(config("    token: x"), "/k", "nope"), 'has no context "nope"'],
  ["exec plugins", () => parseKubeconfig(config("    exec: { command: aws }"), "/k"), "exec or auth-provider"],
  ["a certificate without key", () => parseKubeconfig(config(`    client-certificate-data: ${b64("C")}`), "/k"), "without its key"],
  ["no server", () => parseKubeconfig(config("    token: x", "    insecure-skip-tls-verify: true"), "/k"), "no server URL"],
  ["credentials over http", () => parseKubeconfig(config("    token: x", "    server: http://10.0.0.1:8080"), "/k"), "only sent over https"],
  ["not YAML", () => parseKubeconfig("a: [", "/k"), "not valid YAML"],
  ["not a mapping", () => parseKubeconfig("- 1", "/k"), "is not a kubeconfig"],
])("refuses %s with a message naming the file", (_name, run, fragment) => {
  expect(run).toThrow(fragment);
  try {
    run();
  } catch (error) {
    expect((error as Error).message.startsWith("/k")).toBe(true);
    expect((error as { code: string }).code).toBe("kubeconfig-invalid");
  }
});

test("in-cluster uses the service account", () => {
  expect(inClusterTarget({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" })).toMatchObject({
    server: "https://[fd00::1]:443",
    token: { file: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
    ca: { file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
  });
  expect(() => inClusterTarget({})).toThrow("not running in a pod");
});
