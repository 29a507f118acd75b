/**
 * The test that shows a conversion is right: the original and the conversion, run side by side against a real
 * kernel, must behave the same.
 * - nginx: real nginx proxies from one namespace with the original stream config; lbctl programs IPVS from the
 *   conversion on the director; TCP and UDP clients must reach the same set of backends on every port through both.
 *   A synthetic config and two corpus configs (TCP: alteredtech-rancher, UDP: carrierone-redfire-sip).
 * - keepalived: keepalived programs one network namespace's IPVS table from the original, lbctl another from the
 *   conversion; the two `ipvsadm -Sn` tables must be equal (minus the fwmark service the conversion warns about).
 *   A synthetic config and one corpus config (fanux-kubeinit) whose TCP_CHECKs are made to pass.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { lbctlCommandLine, runLbctl } from "../support/run-lbctl.ts";
import { createLabNetwork, ipvsNamespacePerTest, type LabNetwork, run, runQuietly, startTcpNameServer, startUdpEchoServer, tcpRequest, udpRequest } from "./support/index.ts";

const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";
const VIP = "10.203.0.1";

let network: LabNetwork | undefined;
let tree: ConfigTree | undefined;
const namespaces: string[] = [];
/** Each test's director: a namespace of its own, with its own IPVS table (the keepalived test makes two more). */
const perTest = ipvsNamespacePerTest();

afterEach(() => {
  network?.destroy();
  network = undefined;
  for (const name of namespaces.splice(0)) {
    for (const pid of Bun.spawnSync(["ip", "netns", "pids", name]).stdout.toString().split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    runQuietly(["ip", "netns", "delete", name]);
  }
  tree?.remove();
  tree = undefined;
});

function mainFile(t: ConfigTree): string {
  t.write("config.yaml", `node:\n  name: lab\nnetwork:\n  frontend:\n    vip: ${VIP}\nsystem:\n  state_dir: ${t.path("state")}\ndaemon:\n  socket: ${t.path("lbctl.sock")}\n`);
  return t.main;
}

async function convert(kind: "nginx" | "keepalived", input: string, t: ConfigTree): Promise<string> {
  const run = await runLbctl(["convert", kind, "--input", input, "--output", t.path("config.d"), "--config", mainFile(t)]);
  expect(run.exitCode).toBe(0);
  return run.stderr;
}

/**
 * The set of replies (backend names) seen over `count` requests. A request answered with nothing is asked again
 * (up to 3 times): the test servers' replies race their connection's close under emulation, through either path.
 */
function replies(request: () => string, count: number): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    let answer = "";
    for (let attempt = 0; attempt < 3 && answer === ""; attempt++) answer = request().split("\n")[0]!;
    seen.add(answer);
  }
  return [...seen].sort();
}

describe("convert nginx: nginx and lbctl send clients to the same backends", () => {
  test("TCP and UDP, upstreams with weights, least_conn and a backup that becomes the sorry server", async () => {
    // be1, be2: backends; be3: the nginx host (it reaches the backends through the director, as IPVS does).
    network = createLabNetwork({ backends: 3, director: perTest.current() });
    const [be1, be2, nginxHost] = network.backends as [typeof network.backends[0], typeof network.backends[0], typeof network.backends[0]];
    await Promise.all([
      startTcpNameServer(be1, 5432),
      startTcpNameServer(be2, 5432),
      startUdpEchoServer(be1, 5353),
      startUdpEchoServer(be2, 5353),
      startTcpNameServer(be1, 6379, { reply: "backup-answered" }),
    ]);
    network.addDirectorAddress(VIP);
    tree = configTree();
    const dir = tree.path("nginx");
    mkdirSync(join(dir, "logs"), { recursive: true });
    const conf = join(dir, "nginx.conf");
    writeFileSync(
      conf,
      `load_module ${STREAM_MODULE};
error_log ${dir}/logs/error.log;
pid ${dir}/nginx.pid;
events {}
stream {
    upstream postgres_cluster {
        least_conn;
        server ${be1.address}:5432 max_fails=3 fail_timeout=10s;
        server ${be2.address}:5432 max_fails=3 fail_timeout=10s;
        server ${be1.address}:6379 backup;
    }
    upstream dns {
        server ${be1.address}:5353 weight=2;
        server ${be2.address}:5353;
    }
    server {
        listen 5432;
        proxy_pass postgres_cluster;
        # The test clients close their sending side first, as IPVS lets them; nginx otherwise ends the session.
        proxy_half_close on;
    }
    server {
        listen 53 udp;
        proxy_pass dns;
        proxy_timeout 10s;
    }
}
`,
    );
    const nginx = Bun.spawn(["ip", "netns", "exec", nginxHost.name, "nginx", "-p", `${dir}/`, "-c", conf, "-g", "daemon off; master_process off;"], { stdout: "ignore", stderr: "pipe" });
    // A positive signal that nginx listens before any client asks.
    for (let i = 0; i < 100 && !run(["ss", "-N", nginxHost.name, "-Hltn", "sport = :5432"]).trim(); i++) await Bun.sleep(100);
    expect(run(["ss", "-N", nginxHost.name, "-Hltn", "sport = :5432"])).toContain("5432");

    const warnings = await convert("nginx", conf, tree);
    // The backup becomes the sorry server, which only a daemon adds, and only below quorum: a one-shot apply
    // programs the primary servers alone, as nginx uses them while they are up.
    expect(warnings).toContain(`backup server ${be1.address}:6379 becomes the service's sorry_server (quorum 1)`);
    const apply = await perTest.current().lbctl(["apply", "--config", tree.main]);
    expect(apply.exitCode).toBe(0);
    const table = perTest.current().ipvsadm(["-Sn"]);
    expect(table).not.toContain(`${be1.address}:6379`);
    expect(table).toContain(`-A -t ${VIP}:5432 -s lc`);
    expect(table).toContain(`-A -u ${VIP}:53 -s wrr`);

    const viaNginx = replies(() => tcpRequest(network!.client, nginxHost.address, 5432), 6);
    if (viaNginx.includes("")) console.error(`nginx's error log:\n${Bun.spawnSync(["cat", join(dir, "logs/error.log")]).stdout}`);
    const viaLbctl = replies(() => tcpRequest(network!.client, VIP, 5432), 6);
    expect(viaNginx).toEqual([be1.name, be2.name]);
    expect(viaLbctl).toEqual(viaNginx);

    const udpNginx = replies(() => udpRequest(network!.client, nginxHost.address, 53, { timeoutSeconds: 6 }), 6);
    const udpLbctl = replies(() => udpRequest(network!.client, VIP, 53, { timeoutSeconds: 6 }), 6);
    expect(udpNginx).toEqual([be1.name, be2.name]);
    expect(udpLbctl).toEqual(udpNginx);
    nginx.kill("SIGKILL");
  }, 300_000);
  test("a corpus config (alteredtech-rancher: least_conn on 80 and 443, max_fails/fail_timeout), its addresses moved into the lab", async () => {
    network = createLabNetwork({ backends: 3, director: perTest.current() });
    const [be1, be2, nginxHost] = network.backends as [typeof network.backends[0], typeof network.backends[0], typeof network.backends[0]];
    await Promise.all([80, 443].flatMap((port) => [startTcpNameServer(be1, port), startTcpNameServer(be2, port)]));
    network.addDirectorAddress(VIP);
    tree = configTree();
    const dir = tree.path("nginx");
    mkdirSync(join(dir, "logs"), { recursive: true });
    const conf = join(dir, "nginx.conf");
    const original = readFileSync(join(import.meta.dir, "../convert/corpus/nginx/alteredtech-rancher.conf"), "utf8");
    writeFileSync(
      conf,
      `load_module ${STREAM_MODULE};\nerror_log ${dir}/logs/error.log;\npid ${dir}/nginx.pid;\n${original
        .replaceAll("10.40.0.21", be1.address)
        .replaceAll("10.40.0.22", be2.address)
        // The test clients close their sending side first, as IPVS lets them; nginx otherwise ends the session.
        .replaceAll("proxy_pass rancher_servers_http;", "proxy_pass rancher_servers_http; proxy_half_close on;")
        .replaceAll("proxy_pass rancher_servers_https;", "proxy_pass rancher_servers_https; proxy_half_close on;")}`,
    );
    const nginx = Bun.spawn(["ip", "netns", "exec", nginxHost.name, "nginx", "-p", `${dir}/`, "-c", conf, "-g", "daemon off; master_process off;"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !run(["ss", "-N", nginxHost.name, "-Hltn", "sport = :443"]).trim(); i++) await Bun.sleep(100);
    expect(run(["ss", "-N", nginxHost.name, "-Hltn", "sport = :443"])).toContain("443");
    await convert("nginx", conf, tree);
    expect((await perTest.current().lbctl(["apply", "--config", tree.main])).exitCode).toBe(0);
    for (const port of [80, 443]) {
      const viaNginx = replies(() => tcpRequest(network!.client, nginxHost.address, port), 6);
      expect(viaNginx).toEqual([be1.name, be2.name]);
      expect(replies(() => tcpRequest(network!.client, VIP, port), 6)).toEqual(viaNginx);
    }
    nginx.kill("SIGKILL");
  }, 300_000);
  test("a UDP corpus config (carrierone-redfire-sip: SIP on 5060 over three servers), its addresses moved into the lab", async () => {
    network = createLabNetwork({ backends: 4 });
    const [be1, be2, be3, nginxHost] = network.backends as [typeof network.backends[0], typeof network.backends[0], typeof network.backends[0], typeof network.backends[0]];
    await Promise.all([be1, be2, be3].map((be) => startUdpEchoServer(be, 5060)));
    network.addDirectorAddress(VIP);
    tree = configTree();
    const dir = tree.path("nginx");
    mkdirSync(join(dir, "logs"), { recursive: true });
    const conf = join(dir, "nginx.conf");
    const original = readFileSync(join(import.meta.dir, "../convert/corpus/nginx/carrierone-redfire-sip.conf"), "utf8");
    writeFileSync(
      conf,
      `load_module ${STREAM_MODULE};\nerror_log ${dir}/logs/error.log;\npid ${dir}/nginx.pid;\n${original
        .replaceAll("192.168.1.10", be1.address)
        .replaceAll("192.168.1.11", be2.address)
        .replaceAll("192.168.1.12", be3.address)}`,
    );
    const nginx = Bun.spawn(["ip", "netns", "exec", nginxHost.name, "nginx", "-p", `${dir}/`, "-c", conf, "-g", "daemon off; master_process off;"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !run(["ss", "-N", nginxHost.name, "-Hlun", "sport = :5060"]).trim(); i++) await Bun.sleep(100);
    expect(run(["ss", "-N", nginxHost.name, "-Hlun", "sport = :5060"])).toContain("5060");
    const warnings = await convert("nginx", conf, tree);
    expect(warnings).toContain("UDP service on port 5060 converted without a health check");
    expect((await runLbctl(["apply", "--config", tree.main])).exitCode).toBe(0);
    expect(run(["ipvsadm", "-Sn"])).toContain(`-A -u ${VIP}:5060 -s rr`);
    // proxy_responses 1: nginx passes the first reply datagram only, so each request through it ends on the
    // client's inactivity timeout (2 s; an empty answer is asked again). Both paths balance round robin, one
    // request per backend in turn: four requests reach all three.
    const viaNginx = replies(() => udpRequest(network!.client, nginxHost.address, 5060, { timeoutSeconds: 2 }), 4);
    expect(viaNginx).toEqual([be1.name, be2.name, be3.name]);
    expect(replies(() => udpRequest(network!.client, VIP, 5060, { timeoutSeconds: 3 }), 4)).toEqual(viaNginx);
    nginx.kill("SIGKILL");
  }, 300_000);
});

function namespace(name: string): string {
  run(["ip", "netns", "add", name]);
  namespaces.push(name);
  run(["ip", "-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** `ipvsadm -Sn` inside a namespace, sorted, one rule a line. */
function table(ns: string): string[] {
  return run(["ip", "netns", "exec", ns, "ipvsadm", "-Sn"])
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

describe("convert keepalived: keepalived and lbctl program the same IPVS table", () => {
  test("NAT and DR, TCP and UDP, weights, persistence, a virtual_server_group; fwmark left out", async () => {
    tree = configTree();
    const conf = tree.path("keepalived.conf");
    writeFileSync(
      conf,
      `global_defs {
    router_id LAB
}
virtual_server 10.203.1.1 80 {
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    persistence_timeout 300
    real_server 10.1.1.2 8080 {
        weight 3
    }
    real_server 10.1.2.2 8080 {
        weight 1
    }
}
virtual_server 10.203.1.1 53 {
    lb_algo rr
    lb_kind DR
    protocol UDP
    real_server 10.1.1.3 53 {
        weight 1
    }
    real_server 10.1.2.3 53 {
        weight 0
    }
}
virtual_server_group web {
    10.203.1.2 443
    10.203.1.3-4 443
}
virtual_server group web {
    lb_algo sh
    lb_kind NAT
    real_server 10.1.3.2 443 {
    }
}
virtual_server fwmark 7 {
    lb_algo rr
    real_server 10.1.4.2 80 {
    }
}
`,
    );
    const keepalivedNs = namespace("lbctl-conv-ka");
    const lbctlNs = namespace("lbctl-conv-lb");
    const kaDir = tree.path("ka");
    mkdirSync(kaDir);
    const keepalived = Bun.spawn(
      ["ip", "netns", "exec", keepalivedNs, "keepalived", "--dont-fork", "--log-console", "--check", "-f", conf, "-p", join(kaDir, "k.pid"), "-c", join(kaDir, "c.pid")],
      { stdout: "ignore", stderr: "ignore" },
    );
    // Positive signal: keepalived has programmed its last service before the tables are compared.
    let original: string[] = [];
    for (let i = 0; i < 300; i++) {
      original = table(keepalivedNs);
      if (original.filter((l) => l.startsWith("-a")).length >= 8) break;
      await Bun.sleep(100);
    }
    keepalived.kill("SIGKILL");
    expect(original.filter((l) => l.startsWith("-A")).length).toBe(6);

    const warnings = await convert("keepalived", conf, tree);
    expect(warnings).toContain("virtual_server fwmark 7 is not converted");
    const apply = Bun.spawnSync(["ip", "netns", "exec", lbctlNs, ...lbctlCommandLine(), "apply", "--config", tree.main], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    expect(`${apply.exitCode} ${apply.stderr}`).toStartWith("0");
    const converted = table(lbctlNs);
    const withoutFwmark = original.filter((l) => !/^-[Aa] -f 7\b/.test(l));
    expect(converted).toEqual(withoutFwmark);
  }, 300_000);
  test("a corpus config (fanux-kubeinit: wlc, NAT, persistence 600, TCP_CHECK on three real servers), unchanged", async () => {
    tree = configTree();
    const conf = tree.path("keepalived.conf");
    writeFileSync(conf, readFileSync(join(import.meta.dir, "../convert/corpus/keepalived/fanux-kubeinit.conf"), "utf8"));
    const keepalivedNs = namespace("lbctl-conv-ka2");
    const lbctlNs = namespace("lbctl-conv-lb2");
    // The real servers answer keepalived's TCP_CHECKs, so its table keeps them: their addresses on the namespace's
    // lo and one listener on port 80 (stopped with the namespace).
    const realServers = ["172.18.1.11", "172.18.1.12", "172.18.1.13"];
    for (const address of realServers) run(["ip", "-n", keepalivedNs, "addr", "add", `${address}/32`, "dev", "lo"]);
    Bun.spawn(["ip", "netns", "exec", keepalivedNs, "socat", "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:true"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100 && !run(["ss", "-N", keepalivedNs, "-Hltn", "sport = :80"]).trim(); i++) await Bun.sleep(100);
    const kaDir = tree.path("ka");
    mkdirSync(kaDir);
    const log = join(kaDir, "keepalived.log");
    const keepalived = Bun.spawn(
      ["ip", "netns", "exec", keepalivedNs, "sh", "-c", 'exec keepalived --dont-fork --log-console --check -f "$1" -p "$2" -c "$3" >"$4" 2>&1', "ka", conf, join(kaDir, "k.pid"), join(kaDir, "c.pid"), log],
      { stdout: "ignore", stderr: "ignore" },
    );
    // Positive signal: every checker has succeeded once (keepalived logs the first success) and the table holds
    // the three real servers, so what is compared is keepalived's settled table.
    let original: string[] = [];
    let successes = 0;
    for (let i = 0; i < 300; i++) {
      successes = (Bun.spawnSync(["cat", log]).stdout.toString().match(/TCP connection to .* success/g) ?? []).length;
      original = table(keepalivedNs);
      if (successes >= 3 && original.filter((l) => l.startsWith("-a")).length === 3) break;
      await Bun.sleep(100);
    }
    keepalived.kill("SIGKILL");
    if (successes < 3) console.error(Bun.spawnSync(["cat", log]).stdout.toString());
    expect(successes).toBe(3);
    expect(original).toContain("-A -t 10.23.8.80:80 -s wlc -p 600");

    await convert("keepalived", conf, tree);
    const apply = Bun.spawnSync(["ip", "netns", "exec", lbctlNs, ...lbctlCommandLine(), "apply", "--config", tree.main], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    expect(`${apply.exitCode} ${apply.stderr}`).toStartWith("0");
    expect(table(lbctlNs)).toEqual(original);
  }, 300_000);
});
