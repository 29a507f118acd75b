/**
 * Real nginx as the grammar oracle: `nginx -t` on a fixture, offline and unprivileged in effect. It runs in a new
 * network and mount namespace where every address the config names exists on lo (nginx -t binds its listen
 * sockets), its host names are in a private /etc/hosts, the users it names in a private /etc/passwd and /etc/group,
 * and the stream module is loaded unless the config loads it.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

export type OracleResult = { available: false; why: string } | { available: true; ok: boolean; output: string };

export function nginxAvailable(): string | undefined {
  const which = Bun.spawnSync(["sh", "-c", "command -v nginx && command -v unshare"], { stdout: "pipe", stderr: "pipe" });
  if (which.exitCode !== 0) return "nginx or unshare is not installed (tests/lab/packages.txt: nginx, libnginx-mod-stream)";
  try {
    statSync(STREAM_MODULE);
  } catch {
    return `${STREAM_MODULE} is missing (Debian package libnginx-mod-stream)`;
  }
  if (process.getuid?.() !== 0) return "the oracle needs root for its network and mount namespace";
  return undefined;
}

function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

let pem: string | undefined;
/** A self-signed certificate and its key, made once per run with openssl. */
function dummyPem(): string {
  if (pem) return pem;
  const dir = mkdtempSync(join(tmpdir(), "lbctl-nginx-cert-"));
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=oracle.invalid", "-days", "2", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdout: "pipe", stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl could not make the oracle's dummy certificate: ${made.stderr}`);
  pem = readFileSync(join(dir, "cert.pem"), "utf8") + readFileSync(join(dir, "key.pem"), "utf8");
  return pem;
}

/** Every text of the fixture: the file itself, or every file of its folder when it includes others. */
function texts(file: string): string {
  const folder = file.slice(0, file.lastIndexOf("/"));
  if (!file.endsWith("/nginx.conf")) return readFileSync(file, "utf8");
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(readFileSync(path, "utf8"));
    }
  };
  walk(folder);
  return out.join("\n");
}

/** `nginx -t` (or, with dump, `nginx -T`, whose stdout is the dump) on a fixture. */
export function runNginxTest(file: string, options: { dump?: boolean } = {}): OracleResult {
  const missing = nginxAvailable();
  if (missing) return { available: false, why: missing };
  const text = texts(file);
  const v4 = new Set(text.match(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g) ?? []);
  const v6 = new Set([...text.matchAll(/\[([0-9a-fA-F:]+)\]/g)].map((m) => m[1]!).filter((a) => a.includes(":") && a !== "::"));
  const hosts = (/^# oracle-hosts: (.+)$/m.exec(text)?.[1] ?? "").split(/\s+/).filter(Boolean);
  const users = [...text.matchAll(/^\s*user\s+([A-Za-z0-9_-]+)(?:\s+([A-Za-z0-9_-]+))?\s*;/gm)];
  const dir = mkdtempSync(join(tmpdir(), "lbctl-nginx-oracle-"));
  writeFileSync(join(dir, "hosts"), `127.0.0.1 localhost\n${hosts.map((h, i) => `10.255.0.${i + 1} ${h}`).join("\n")}\n`);
  const extraUsers = users.map((u, i) => `${u[1]}:x:${60000 + i}:${60000 + i}::/nonexistent:/usr/sbin/nologin`).join("\n");
  const extraGroups = users.flatMap((u, i) => [`${u[1]}:x:${60000 + i}:`, ...(u[2] ? [`${u[2]}:x:${61000 + i}:`] : [])]).join("\n");
  writeFileSync(join(dir, "passwd"), `${readFileSync("/etc/passwd", "utf8")}${extraUsers}\n`);
  writeFileSync(join(dir, "group"), `${readFileSync("/etc/group", "utf8")}${extraGroups}\n`);
  // Certificates it names: one generated pair (certificate and key in one PEM) written at every path, absolute paths
  // through an overlay of their top folder, so nothing outside the namespace changes.
  const certs = [...new Set([...text.matchAll(/^\s*(?:proxy_)?ssl_(?:certificate|certificate_key|trusted_certificate)\s+(\S+?);/gm)].map((m) => m[1]!.replace(/^["']|["']$/g, "")))];
  if (certs.length > 0) writeFileSync(join(dir, "dummy.pem"), dummyPem());
  // The folder of an absolute pid file must exist for nginx -t.
  const pidFolders = [...text.matchAll(/^\s*pid\s+(\/\S+?);/gm)].map((m) => folderOf(m[1]!)).filter((f) => !existsSync(f));
  const overlays = [...new Set([...certs.filter((c) => c.startsWith("/")), ...pidFolders.map((f) => `${f}/x`)].map((c) => `/${c.split("/")[1]}`))];
  const globals = [`error_log stderr;`];
  if (!/^\s*pid\s/m.test(text)) globals.push(`pid ${dir}/nginx.pid;`);
  // Debian's modules-enabled loads it relative to the prefix: the prefix gets a modules link.
  if (!/load_module\s+\S*ngx_stream_module\.so/.test(text) && !/include\s+\/etc\/nginx\/modules-enabled\//.test(text)) globals.push(`load_module ${STREAM_MODULE};`);
  symlinkSync("/usr/lib/nginx/modules", join(dir, "modules"));
  // Relative pid and log paths land in the prefix: the usual folders exist there.
  for (const folder of ["conf", "logs"]) mkdirSync(join(dir, folder));
  const script = [
    "set -e",
    "ip link set lo up",
    ...[...v4].filter((a) => !a.startsWith("127.")).map((a) => `ip addr add ${a}/32 dev lo 2>/dev/null || true`),
    ...[...v6].map((a) => `ip -6 addr add ${a}/128 dev lo nodad 2>/dev/null || true`),
    ...hosts.map((_, i) => `ip addr add 10.255.0.${i + 1}/32 dev lo`),
    ...overlays.flatMap((top, i) => [`mkdir -p ${dir}/ov${i}/u ${dir}/ov${i}/w`, `mount -t overlay overlay -o lowerdir=${top},upperdir=${dir}/ov${i}/u,workdir=${dir}/ov${i}/w ${top}`]),
    ...certs.map((c) => {
      const path = c.startsWith("/") ? c : join(folderOf(file), c);
      return `mkdir -p "${folderOf(path)}" && cp ${dir}/dummy.pem "${path}"`;
    }),
    ...pidFolders.map((f) => `mkdir -p "${f}"`),
    `mount --bind ${dir}/hosts /etc/hosts`,
    `mount --bind ${dir}/passwd /etc/passwd`,
    `mount --bind ${dir}/group /etc/group`,
    `exec nginx ${options.dump ? "-T" : "-t -q"} -p ${dir}/ -c "$1" -g "$2"`,
  ].join("\n");
  // Output goes to files: a config may log to /dev/stderr, which cannot be opened on a pipe.
  const result = Bun.spawnSync(["unshare", "-mn", "sh", "-c", script, "oracle", file, globals.join(" ")], { stdout: Bun.file(join(dir, "stdout")), stderr: Bun.file(join(dir, "stderr")) });
  const stdout = readFileSync(join(dir, "stdout"), "utf8");
  const stderr = readFileSync(join(dir, "stderr"), "utf8");
  return { available: true, ok: result.exitCode === 0, output: options.dump ? stdout : `${stdout}${stderr}`.trim() };
}
