/**
 * Proves the kernel lab end to end: IPVS is there, each network namespace has a table of its own (what every lab test
 * relies on), ipvsadm programs it, every scheduler loads, and real TCP and UDP traffic goes through an IPVS NAT
 * service to backends in their own namespaces.
 * Runs inside the guest: bun tests/lab/launch.ts -- bun test tests/lab/smoke.test.ts
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { release } from "node:os";
import {
  createLabNetwork,
  IpvsNamespace,
  ipvsadmSave as rootIpvsadmSave,
  ipvsNamespacePerTest,
  type LabNetwork,
  startTcpNameServer,
  startUdpEchoServer,
  tcpRequest,
  udpRequest,
} from "./support/index.ts";

const VIP = "10.200.0.1";
/** Emulated: spawning processes and creating namespaces takes far longer than on hardware. */
const TRAFFIC_TEST_TIMEOUT_MS = 120_000;

/** The scheduler modules this kernel ships, from its module directory (Debian 12: all but twos). */
function shippedSchedulers(): string[] {
  const ipvsDir = `/lib/modules/${release()}/kernel/net/netfilter/ipvs`;
  return readdirSync(ipvsDir)
    .map((file) => file.replace(/\.ko(\.(xz|zst|gz))?$/, ""))
    .filter((name) => name.startsWith("ip_vs_") && !/^ip_vs_(ftp|pe_.*)$/.test(name))
    .map((name) => name.slice("ip_vs_".length))
    .sort();
}

const perTest = ipvsNamespacePerTest();
const ipvsadm = (args: string[]) => perTest.current().ipvsadm(args);
const ipvsadmSave = () => perTest.current().ipvsadmSave();

let network: LabNetwork | undefined;

afterEach(() => {
  network?.destroy();
  network = undefined;
});

describe("kernel lab", () => {
  test("IPVS is loaded", () => {
    expect(existsSync("/proc/net/ip_vs")).toBe(true);
    expect(perTest.current().exec(["cat", "/proc/net/ip_vs"])).toContain("IP Virtual Server version 1.2.1");
  });

  test("each network namespace has an IPVS table of its own, gone with the namespace", () => {
    const other = IpvsNamespace.create();
    try {
      const rootBefore = rootIpvsadmSave();
      ipvsadm(["-A", "-t", `${VIP}:80`, "-s", "rr"]);
      other.ipvsadm(["-A", "-u", `${VIP}:53`, "-s", "wlc"]);
      expect(ipvsadmSave()).toEqual([`-A -t ${VIP}:80 -s rr`]);
      expect(other.ipvsadmSave()).toEqual([`-A -u ${VIP}:53 -s wlc`]);
      expect(rootIpvsadmSave()).toEqual(rootBefore);
      // The per-namespace settings the tests rely on: forwarding on, the kernel's default connection timeouts.
      expect(other.exec(["cat", "/proc/sys/net/ipv4/ip_forward"]).trim()).toBe("1");
      expect(other.ipvsadm(["-L", "--timeout"])).toContain("900 120 300");
    } finally {
      other.destroy();
    }
    const again = IpvsNamespace.create();
    try {
      expect(again.ipvsadmSave()).toEqual([]);
    } finally {
      again.destroy();
    }
  });

  test("ipvsadm -A/-a rules show up in ipvsadm -Sn", () => {
    ipvsadm(["-A", "-t", `${VIP}:80`, "-s", "rr"]);
    ipvsadm(["-a", "-t", `${VIP}:80`, "-r", "10.99.0.2:8080", "-m", "-w", "3"]);
    expect(ipvsadmSave()).toEqual([`-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r 10.99.0.2:8080 -m -w 3`]);
  });

  const schedulers = shippedSchedulers();

  test("the kernel ships the usual IPVS schedulers", () => {
    expect(schedulers).toEqual(expect.arrayContaining(["rr", "wrr", "lc", "wlc", "sh", "dh", "mh"]));
  });

  test.each(schedulers)("scheduler %s can be used", (scheduler) => {
    ipvsadm(["-A", "-t", `${VIP}:80`, "-s", scheduler]);
    expect(ipvsadmSave()).toEqual([`-A -t ${VIP}:80 -s ${scheduler}`]);
  });

  test(
    "TCP requests to a NAT VIP are spread round-robin over two backends",
    async () => {
      network = createLabNetwork({ backends: 2, director: perTest.current() });
      network.addDirectorAddress(VIP);
      await Promise.all(network.backends.map((backend) => startTcpNameServer(backend, 80)));
      ipvsadm(["-A", "-t", `${VIP}:80`, "-s", "rr"]);
      for (const backend of network.backends) ipvsadm(["-a", "-t", `${VIP}:80`, "-r", `${backend.address}:80`, "-m"]);
      const client = network.client;
      const answers = [1, 2, 3, 4].map(() => tcpRequest(client, VIP, 80));

      const names = network.backends.map((backend) => backend.name);
      expect([...answers].sort()).toEqual([...names, ...names].sort());
      // Round-robin alternates: whichever backend answered first answers every other request.
      expect(answers[0]).not.toBe(answers[1]);
      expect(answers[2]).toBe(answers[0]);
      expect(answers[3]).toBe(answers[1]);
    },
    TRAFFIC_TEST_TIMEOUT_MS,
  );

  test(
    "UDP datagrams to a NAT VIP reach both backends and the answers come back",
    async () => {
      network = createLabNetwork({ backends: 2, director: perTest.current() });
      network.addDirectorAddress(VIP);
      await Promise.all(network.backends.map((backend) => startUdpEchoServer(backend, 53)));
      ipvsadm(["-A", "-u", `${VIP}:53`, "-s", "rr"]);
      for (const backend of network.backends) ipvsadm(["-a", "-u", `${VIP}:53`, "-r", `${backend.address}:53`, "-m"]);
      // Each request comes from a new source port, so each is a new IPVS connection and gets the next backend.
      const answers = ["one", "two"].map((payload) => udpRequest(network!.client, VIP, 53, { payload: `${payload}\n` }));

      const names = network.backends.map((backend) => backend.name);
      expect(answers.map((answer) => answer.split("\n")[0]).sort()).toEqual([...names].sort());
      expect(answers.map((answer) => answer.split("\n")[1])).toEqual(["one", "two"]);
    },
    TRAFFIC_TEST_TIMEOUT_MS,
  );
});
