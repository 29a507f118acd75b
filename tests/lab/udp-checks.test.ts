/**
 * UDP and application checks through the real daemon, a real kernel and real peers in backend namespaces (over veth
 * links, not loopback):
 * - a UDP service end to end: udp_echo checks against socat echo servers, traffic through the VIP on a port range,
 *   a backend whose echo server stops gets weight 0 on every port (and no new flows), and comes back;
 * - udp_dns (dnsmasq), udp_ntp (chronyd), udp_sip (sipp) and http (busybox httpd) services: healthy, then weight 0
 *   once their peer stops, each with its reason in the daemon's log.
 */

import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { configTree } from "../support/config-tree.ts";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, type LabNamespace, startUdpEchoServer, udpRequest } from "./support/index.ts";

const VIP = "10.204.0.1";
// Everything is emulated in the guest: a socat echo (a fork per datagram) answers in 150-350 ms there, so the
// timeout is generous; the host tests (tests/health/checks/) use tight timings.
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 800;
const FAIL_AFTER = 2;
const HEALTH_PORT = 7000;
const T = 180_000;

/** Each test's daemon runs in a network namespace of its own, with its own IPVS table. */
const lab = daemonLab({ ownNamespace: true });
const ipvsadmSave = () => labNamespace(lab).ipvsadmSave();

function writeConfig(services: Array<Record<string, unknown>>): void {
  writeDaemonConfig(
    lab,
    {
      node: { name: "lab-a" },
      network: { frontend: { vip: VIP } },
      daemon: { reconcile_interval_ms: 1000 },
      observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
    },
    services,
  );
}

/** A peer inside a namespace; network.destroy() kills it too, stop() sooner. */
interface NamespacePeer {
  stop(): Promise<void>;
}

async function startIn(namespace: LabNamespace, argv: string[], protocol: "udp" | "tcp", port: number, cwd?: string): Promise<NamespacePeer> {
  const child: Subprocess = Bun.spawn(["ip", "netns", "exec", namespace.name, ...argv], { cwd, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${argv[0]} exited ${child.exitCode}: ${await new Response(child.stderr as ReadableStream).text()}`);
      const ss = Bun.spawnSync(["ss", "-N", namespace.name, protocol === "udp" ? "-Hlun" : "-Hltn", `sport = :${port}`]);
      return ss.stdout.toString().trim().length > 0;
    },
    20_000,
    `${argv[0]} listening on ${protocol}/${port} in ${namespace.name}`,
  );
  return {
    async stop() {
      child.kill("SIGKILL");
      await child.exited;
    },
  };
}

/** The echo server of docs/udp-health-checks.md: a child per datagram that sends it back unchanged (PIPE). */
const socatEcho = (namespace: LabNamespace, port: number) => startIn(namespace, ["socat", `UDP-RECVFROM:${port},fork`, "PIPE"], "udp", port);

const weightOf = (proto: "-u" | "-t", port: number, backend: string) => {
  const line = ipvsadmSave().find((l) => l.startsWith(`-a ${proto} ${VIP}:${port} -r ${backend}:${port} `));
  return line ? Number(/-w (\d+)/.exec(line)?.[1]) : undefined;
};

describe("UDP checks through the daemon", () => {
  test("a UDP service end to end: udp_echo checks, traffic through the VIP, a stopped echo server gets weight 0 on every port", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    const ports = [7543, 7544];
    const [first, second] = lab.network.backends as [LabNamespace, LabNamespace];
    await Promise.all(lab.network.backends.flatMap((backend) => ports.map((port) => startUdpEchoServer(backend, port))));
    const echoes = await Promise.all(lab.network.backends.map((backend) => socatEcho(backend, HEALTH_PORT)));
    writeConfig([
      {
        name: "switchboard-udp",
        protocol: "udp",
        ports: ["7543-7544"],
        scheduler: "rr",
        backends: lab.network.backends.map((b) => ({ address: b.address, weight: 1 })),
        health: { enabled: true, type: "udp_echo", port: HEALTH_PORT, interval_ms: INTERVAL_MS, timeout_ms: TIMEOUT_MS, fail_after: FAIL_AFTER, recover_after: 2, payload: "PING" },
      },
    ]);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => ports.every((port) => weightOf("-u", port, first.address) === 1 && weightOf("-u", port, second.address) === 1), 20_000, "both backends on both ports");
    await waitFor(() => (lab.daemon!.log().match(/Backend healthy/g) ?? []).length >= 2, 20_000, "both backends healthy");

    // Round robin over new flows (each request has its own source port): both backends answer on both ports.
    for (const port of ports) {
      const names = [1, 2, 3, 4].map(() => udpRequest(lab.network!.client, VIP, port).split("\n")[0]);
      expect(new Set(names)).toEqual(new Set([first.name, second.name]));
    }

    const logBefore = lab.daemon.log().length;
    await echoes[0]!.stop();
    const stoppedAt = performance.now();
    // Timed by the daemon's own log line (read every 100 ms; polling ipvsadm through `ip netns exec` costs seconds
    // in a loaded guest), then the kernel is checked without a clock.
    const down = new RegExp(`Backend unhealthy .*backend=${first.address}:`);
    await waitFor(() => down.test(lab.daemon!.log().slice(logBefore)), 20_000, "the stopped backend's unhealthy transition in the log");
    expect(performance.now() - stoppedAt).toBeLessThan((FAIL_AFTER + 1) * INTERVAL_MS + 2500);
    await waitFor(() => ports.every((port) => weightOf("-u", port, first.address) === 0), 20_000, "weight 0 for the backend whose echo stopped");
    expect(weightOf("-u", 7543, second.address)).toBe(1);
    // The service itself still answers on the drained backend; new flows go to the survivor only.
    for (const port of ports) {
      const names = [1, 2, 3].map(() => udpRequest(lab.network!.client, VIP, port).split("\n")[0]);
      expect(new Set(names)).toEqual(new Set([second.name]));
    }
    await waitFor(() => lab.daemon!.log().slice(logBefore).includes("Backend unhealthy"), 10_000, "the unhealthy transition in the log");
    // The backend's kernel answers the probes of the closed port with ICMP port unreachable (rate-limited to about
    // one a second per destination, so some probes may time out instead): that reason reaches the daemon.
    await waitFor(() => lab.daemon!.log().slice(logBefore).includes('reason="ICMP port unreachable"'), 10_000, "a probe failed by ICMP");

    await socatEcho(first, HEALTH_PORT);
    await waitFor(() => ports.every((port) => weightOf("-u", port, first.address) === 1), 20_000, "recovery to weight 1");
  }, T);

  test("udp_dns (dnsmasq), udp_ntp (chronyd), udp_sip (sipp) and http (busybox httpd): healthy, then weight 0 when the peer stops", async () => {
    lab.network = createLabNetwork({ backends: 1, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    lab.tree = configTree();
    const backend = lab.network.backends[0]!;
    const address = backend.address;
    lab.tree.write("sipp/uas.xml", SIPP_UAS);
    lab.tree.write("chrony.conf", ["port 123", `bindaddress ${address}`, "allow all", "local stratum 3", "cmdport 0", "bindcmdaddress /", `pidfile ${lab.tree.path("chronyd.pid")}`, ""].join("\n"));
    lab.tree.write("www/index.html", "up\n");
    const peers = await Promise.all([
      startIn(
        backend,
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${address}`, "--port=53", "--local=/lbctl.test/", "--address=/up.lbctl.test/192.0.2.53", "--pid-file=", "--user=root"],
        "udp",
        53,
      ),
      startIn(backend, ["chronyd", "-d", "-x", "-u", "root", "-f", lab.tree.path("chrony.conf")], "udp", 123),
      startIn(backend, ["sipp", "-sf", lab.tree.path("sipp/uas.xml"), "-i", address, "-p", "5060", "-t", "u1", "-nostdin"], "udp", 5060, lab.tree.path("sipp")),
      startIn(backend, ["busybox", "httpd", "-f", "-p", `${address}:80`, "-h", lab.tree.path("www")], "tcp", 80),
    ]);
    const health = { enabled: true, interval_ms: INTERVAL_MS, timeout_ms: TIMEOUT_MS, fail_after: FAIL_AFTER, recover_after: 1 };
    const backends = [{ address, weight: 1 }];
    writeConfig([
      { name: "dns", protocol: "udp", ports: [53], backends, health: { ...health, type: "udp_dns", dns_query: "up.lbctl.test" } },
      { name: "ntp", protocol: "udp", ports: [123], backends, health: { ...health, type: "udp_ntp", ntp_max_stratum: 4 } },
      { name: "sip", protocol: "udp", ports: [5060], backends, health: { ...health, type: "udp_sip" } },
      { name: "web", protocol: "tcp", ports: [80], backends, health: { ...health, type: "http", http_path: "/index.html" } },
    ]);
    const checks: Array<["-u" | "-t", number]> = [
      ["-u", 53],
      ["-u", 123],
      ["-u", 5060],
      ["-t", 80],
    ];
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => (lab.daemon!.log().match(/Backend healthy/g) ?? []).length >= 4, 30_000, "all four services healthy");
    // The transition is logged before the weight it causes reaches the kernel.
    await waitFor(() => checks.every(([proto, port]) => weightOf(proto, port, address) === 1), 10_000, "weight 1 on all four");

    const logBefore = lab.daemon.log().length;
    await Promise.all(peers.map((peer) => peer.stop()));
    await waitFor(() => checks.every(([proto, port]) => weightOf(proto, port, address) === 0), 30_000, "weight 0 on all four once their peers stopped");
    const unhealthy = () => lab.daemon!.log().slice(logBefore).match(/Backend unhealthy .*/g) ?? [];
    await waitFor(() => unhealthy().length === 4, 10_000, "four unhealthy transitions in the log");
    for (const service of ["dns", "ntp", "sip", "web"]) expect(unhealthy().some((line) => line.includes(`service=${service} `))).toBe(true);
    // Stopped UDP servers get ICMP port unreachable (or, rate-limited, time out); the stopped HTTP server refuses.
    expect(unhealthy().find((line) => line.includes("service=web "))).toContain('reason="connection refused"');
  }, T);
});

const SIPP_UAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="OPTIONS UAS">
  <recv request="OPTIONS"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;
