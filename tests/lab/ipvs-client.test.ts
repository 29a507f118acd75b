/**
 * The IPVS client against a real kernel, with `ipvsadm -Sn` as the independent oracle. Each test has a network
 * namespace, and so an IPVS table, of its own. What every client must do (refusals, batches) is in the contract
 * suite (tests/lab/ipvs-contract.test.ts); this file is about the netlink client and the kernel's own features.
 * Runs inside the guest: bun tests/lab/launch.ts -- bun test tests/lab/ipvs-client.test.ts
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { encodeGetDestinations } from "../../src/ipvs/codec/requests.ts";
import { NetlinkError, TransportError } from "../../src/ipvs/errors.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import { createLibnlTransport } from "../../src/ipvs/transport/libnl.ts";
import type {
  DestinationSpec,
  IpvsAdminClient,
  IpvsOperation,
  KernelService,
  ServiceKey,
  ServiceSpec,
} from "../../src/ipvs/types.ts";
import { type LabNetwork, createLabNetwork, ipvsNamespacePerTest, startTcpNameServer, tcpRequest } from "./support/index.ts";
import { destinationSpec, keyOf, serviceSpec } from "../ipvs/support/fixtures.ts";

const VIP = "192.0.2.10";
const TRAFFIC_TIMEOUT_MS = 120_000;
const BATCH_TIMEOUT_MS = 120_000;

const service = (overrides: Partial<ServiceSpec> = {}): ServiceSpec => serviceSpec({ address: VIP, ...overrides });
const destination = destinationSpec;

function executeOk(operations: IpvsOperation[]): void {
  const result = client.execute(operations);
  if (!result.ok) throw result.error;
}

const perTest = ipvsNamespacePerTest();
const ipvsadm = (args: string[]) => perTest.current().ipvsadm(args);
const ipvsadmSave = () => perTest.current().ipvsadmSave();

/** The client under test, its socket in the test's namespace. */
let client: IpvsAdminClient;
let network: LabNetwork | undefined;

beforeEach(() => {
  client = perTest.current().ipvsClient();
});

afterEach(() => {
  network?.destroy();
  network = undefined;
  client.close();
});

describe("the libnl transport", () => {
  test("opens a socket, resolves the IPVS family, and refuses use once closed", () => {
    const transport = perTest.current().enter(() => {
      const opened = createLibnlTransport();
      opened.familyId();
      return opened;
    });
    expect(transport.portId()).toBeGreaterThan(0);
    expect(transport.familyId()).toBeGreaterThan(0);
    transport.close();
    expect(() => transport.familyId()).toThrow(new TransportError("The IPVS netlink socket is closed"));
  });
});

describe("reading", () => {
  test("info reports the IPVS version and connection table size", () => {
    const info = client.info();
    expect(info.version).toMatch(/^1\.\d+\.\d+$/);
    expect(info.connectionTableSize).toBeGreaterThan(0);
  });

  test("a table written by ipvsadm, fwmark service included, is read back", () => {
    ipvsadm(["-A", "-t", `${VIP}:80`, "-s", "wlc"]);
    ipvsadm(["-a", "-t", `${VIP}:80`, "-r", "10.0.0.10:8080", "-m", "-w", "4", "-x", "50", "-y", "5"]);
    ipvsadm(["-A", "-f", "42", "-s", "rr"]);
    ipvsadm(["-a", "-f", "42", "-r", "10.0.0.20:0", "-g"]);
    const entries = client.dump();
    const fwmark = entries.find((e) => e.service.fwmark === 42);
    const tcp = entries.find((e) => e.service.port === 80);
    expect(fwmark?.destinations.map((d) => [d.address, d.forward])).toEqual([["10.0.0.20", "dr"]]);
    expect(tcp?.service).toMatchObject({ family: 4, protocol: "tcp", address: VIP, scheduler: "wlc", flags: 0 });
    expect(tcp?.destinations).toMatchObject([
      { address: "10.0.0.10", port: 8080, forward: "nat", weight: 4, upperThreshold: 50, lowerThreshold: 5, family: 4 },
    ]);
  });
});

describe("writing, checked with ipvsadm -Sn", () => {
  test("create services and nat/dr/tun destinations, update, then delete them", () => {
    const web = service();
    executeOk([
      { kind: "new-service", service: web },
      { kind: "new-destination", service: web, destination: destination("10.0.0.10") },
      { kind: "new-destination", service: web, destination: destination("10.0.0.11", { forward: "dr", weight: 2 }) },
      { kind: "new-destination", service: web, destination: destination("10.0.0.12", { forward: "tun", weight: 3 }) },
    ]);
    expect(ipvsadmSave()).toEqual([
      `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r 10.0.0.10:8080 -m -w 1`,
      `-a -t ${VIP}:80 -r 10.0.0.11:8080 -g -w 2`,
      `-a -t ${VIP}:80 -r 10.0.0.12:8080 -i -w 3 --tun-type ipip`,
    ]);
    const [listed] = client.listServices();
    expect(listed).toMatchObject({ ...web, fwmark: 0 });
    expect(client.listDestinations(web).map((d) => `${d.address} ${d.forward} ${d.weight}`).sort()).toEqual([
      "10.0.0.10 nat 1",
      "10.0.0.11 dr 2",
      "10.0.0.12 tun 3",
    ]);

    executeOk([
      { kind: "set-destination", service: web, destination: destination("10.0.0.10", { weight: 7, upperThreshold: 100, lowerThreshold: 10 }) },
      { kind: "del-destination", service: web, destination: { family: 4, address: "10.0.0.11", port: 8080 } },
    ]);
    expect(ipvsadmSave()).toEqual([
      `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r 10.0.0.10:8080 -m -w 7`,
      `-a -t ${VIP}:80 -r 10.0.0.12:8080 -i -w 3 --tun-type ipip`,
    ]);
    // ipvsadm -S leaves thresholds out; its threshold listing shows them.
    const thresholds = ipvsadm(["-L", "-n", "--thresholds"]).replace(/ +/g, " ");
    expect(thresholds).toContain("-> 10.0.0.10:8080 100 10 0 0");

    executeOk([{ kind: "del-service", service: keyOf(web) }]);
    expect(ipvsadmSave()).toEqual([]);
    expect(client.dump()).toEqual([]);
  });

  test("tunnel settings (GUE with checksum) reach the kernel", () => {
    const web = service();
    const tunnel = { type: "gue" as const, port: 6080, flags: 1 };
    executeOk([
      { kind: "new-service", service: web },
      { kind: "new-destination", service: web, destination: destination("10.0.0.12", { forward: "tun", tunnel }) },
    ]);
    expect(ipvsadmSave()).toContain(`-a -t ${VIP}:80 -r 10.0.0.12:8080 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum`);
    expect(client.listDestinations(web)[0]?.tunnel).toEqual(tunnel);
  });

  test("persistence: timeout and IPv4 netmask", () => {
    executeOk([{ kind: "new-service", service: service({ flags: 0x0001, timeout: 600, netmask: 0xffffff00 }) }]);
    expect(ipvsadmSave()).toEqual([`-A -t ${VIP}:80 -s rr -p 600 -M 255.255.255.0`]);
    expect(client.listServices()[0]).toMatchObject({ flags: 0x0001, timeout: 600, netmask: 0xffffff00 });
  });

  test("IPv6 service and destination, UDP and SCTP services", () => {
    const v6 = service({ family: 6, address: "2001:db8::1", port: 443, scheduler: "wrr", netmask: 128 });
    const udp = service({ protocol: "udp", port: 53 });
    const sctp = service({ protocol: "sctp", port: 3868, scheduler: "sh", flags: 0x0010 });
    executeOk([
      { kind: "new-service", service: v6 },
      { kind: "new-destination", service: v6, destination: destination("2001:db8::2", { family: 6, port: 443 }) },
      { kind: "new-service", service: udp },
      { kind: "new-service", service: sctp },
    ]);
    expect(ipvsadmSave()).toEqual([
      `-A --sctp-service ${VIP}:3868 -s sh -b sh-port`,
      "-A -t [2001:db8::1]:443 -s wrr",
      `-A -u ${VIP}:53 -s rr`,
      "-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 1",
    ].sort());
    const entries = client.dump();
    const listed = entries.find((e) => e.service.family === 6);
    expect(listed?.service).toMatchObject({ address: "2001:db8::1", port: 443, netmask: 128 });
    expect(listed?.destinations.map((d) => [d.family, d.address, d.port])).toEqual([[6, "2001:db8::2", 443]]);
  });

  test("connection timeouts are set and read back (and ipvsadm sees them)", () => {
    // Timeouts belong to the namespace: nothing to restore afterwards.
    client.setTimeouts({ tcp: 1000, tcpFin: 100, udp: 200 });
    expect(client.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 200 });
    expect(ipvsadm(["-L", "--timeout"])).toContain("1000 100 200");
    client.setTimeouts({ tcp: 0, tcpFin: 0, udp: 300 }); // 0 leaves a timeout unchanged
    expect(client.getTimeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 300 });
    expect(ipvsadm(["-L", "--timeout"])).toContain("1000 100 300");
  });

  test("sync daemon: start, list, stop", () => {
    ipvsadmLink("add");
    try {
      client.startSyncDaemon({ state: "master", interface: "lbsync0", syncId: 7 });
      expect(client.listSyncDaemons()).toEqual([expect.objectContaining({ state: "master", interface: "lbsync0", syncId: 7 })]);
      expect(ipvsadm(["-L", "--daemon"])).toContain("master sync daemon (mcast=lbsync0, syncid=7");
      client.stopSyncDaemon("master");
      expect(client.listSyncDaemons()).toEqual([]);
    } finally {
      ipvsadmLink("del");
    }
  });

  test("zero and flush", () => {
    executeOk([{ kind: "new-service", service: service() }, { kind: "new-service", service: service({ port: 81 }) }]);
    client.zero(keyOf(service()));
    client.zero();
    client.flush();
    expect(ipvsadmSave()).toEqual([]);
  });
});

/** A dummy link in the test's namespace for the sync daemon, which needs a multicast-capable interface. */
function ipvsadmLink(action: "add" | "del"): void {
  const namespace = perTest.current();
  if (action === "del") return void namespace.exec(["ip", "link", "del", "lbsync0"]);
  namespace.exec(["ip", "link", "add", "lbsync0", "type", "dummy"]);
  namespace.exec(["ip", "link", "set", "lbsync0", "up", "multicast", "on"]);
}

describe("refusals", () => {
  test("an error mid-batch: exact succeeded, failedIndex and message; later requests still applied", () => {
    const result = client.execute([
      { kind: "new-service", service: service() },
      { kind: "new-destination", service: keyOf(service({ address: "192.0.2.99" })), destination: destination("10.0.0.1") },
      { kind: "new-service", service: service({ port: 81 }) },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failedIndex).toBe(1);
    expect(result.succeeded).toEqual([0, 2]);
    expect(result.error).toBeInstanceOf(NetlinkError);
    expect(result.error.message).toBe("Kernel refused create-destination 10.0.0.1:8080 of tcp:192.0.2.99:80: no such service");
    expect(ipvsadmSave()).toEqual([`-A -t ${VIP}:80 -s rr`, `-A -t ${VIP}:81 -s rr`]);
  });

  test("a scheduler the kernel lacks (twos on Debian 12) names the module to load", () => {
    const result = client.execute([{ kind: "new-service", service: service({ scheduler: "twos" }) }]);
    expect(result).toMatchObject({ ok: false, failedIndex: 0, succeeded: [] });
    if (result.ok) return;
    expect(result.error.message).toBe(
      `Kernel refused create-service tcp:${VIP}:80: scheduler 'twos' is not available: load kernel module ip_vs_twos (this kernel may not ship it)`,
    );
    expect((result.error as NetlinkError).errnoName).toBe("ENOENT");
  });

  test("a duplicate service, a missing destination", () => {
    executeOk([{ kind: "new-service", service: service() }]);
    const duplicate = client.execute([{ kind: "new-service", service: service() }]);
    expect(duplicate.ok || duplicate.error.message).toBe(`Kernel refused create-service tcp:${VIP}:80: service already exists`);
    const missing = client.execute([
      { kind: "del-destination", service: keyOf(service()), destination: { family: 4, address: "10.0.0.9", port: 80 } },
    ]);
    expect(missing.ok || missing.error.message).toBe(
      `Kernel refused delete-destination 10.0.0.9:80 of tcp:${VIP}:80: no such destination`,
    );
  });

  test("the kernel allows one dump per socket at a time: a second one in the same send gets EBUSY", () => {
    // The first dump must still be running when the second arrives, so its service needs a destination: a dump
    // with nothing to list ends within the send.
    executeOk([
      { kind: "new-service", service: service() },
      { kind: "new-destination", service: service(), destination: destination("10.0.0.1") },
      { kind: "new-service", service: service({ port: 81 }) },
    ]);
    const transport = perTest.current().enter(() => {
      const opened = createLibnlTransport();
      opened.familyId(); // opens the socket here, in the test's namespace
      return opened;
    });
    try {
      const writer = new MessageWriter();
      const header = { family: transport.familyId(), seq: 100, port: transport.portId() };
      encodeGetDestinations(writer, header, service());
      encodeGetDestinations(writer, { ...header, seq: 101 }, service({ port: 81 }));
      transport.send(writer.bytes());
      let second: string | undefined;
      while (second === undefined) {
        const messages = new MessageCursor(transport.receive());
        while (messages.next()) {
          if (messages.seq === 101 && messages.type === 2) second = `error ${messages.errno()}`;
          if (messages.seq === 101 && messages.type === 3) second = "done";
        }
      }
      expect(second).toBe("error 16");
    } finally {
      transport.close();
    }
  });
});

describe("at scale", () => {
  test(
    "2,000 services with 2 destinations each in one batch, dumped back and counted by ipvsadm",
    () => {
      const operations: IpvsOperation[] = [];
      for (let i = 0; i < 2000; i++) {
        const svc = service({ address: `10.100.${i >> 8}.${i & 255}`, port: 80 });
        operations.push({ kind: "new-service", service: svc });
        for (const host of [1, 2]) {
          operations.push({ kind: "new-destination", service: svc, destination: destination(`10.200.${i >> 8}.${(i & 127) * 2 + host - 1}`) });
        }
      }
      const started = performance.now();
      executeOk(operations);
      const executeMs = performance.now() - started;
      const dumpStarted = performance.now();
      const entries = client.dump();
      const dumpMs = performance.now() - dumpStarted;
      expect(entries).toHaveLength(2000);
      expect(entries.reduce((sum, e) => sum + e.destinations.length, 0)).toBe(4000);
      const saved = ipvsadmSave();
      expect(saved.filter((line) => line.startsWith("-A"))).toHaveLength(2000);
      expect(saved.filter((line) => line.startsWith("-a"))).toHaveLength(4000);

      // The same table through ipvsadm -R, in the same guest: only the ratio means anything under emulation.
      ipvsadm(["-C"]);
      const restoreStarted = performance.now();
      perTest.current().ipvsadm(["-R"], { input: `${saved.join("\n")}\n`, timeoutMs: BATCH_TIMEOUT_MS });
      const restoreMs = performance.now() - restoreStarted;
      console.log(
        `6,000 writes: lbctl execute ${executeMs.toFixed(0)} ms, ipvsadm -R ${restoreMs.toFixed(0)} ms; ` +
          `dump of 2,000 services ${dumpMs.toFixed(0)} ms`,
      );
      expect(ipvsadmSave()).toHaveLength(6000);
    },
    BATCH_TIMEOUT_MS,
  );
});

describe("with traffic", () => {
  test(
    "STATS64 counts connections, and a scheduler change keeps the service (counters survive)",
    async () => {
      network = createLabNetwork({ backends: 2, director: perTest.current() });
      const vip = "10.201.0.1";
      network.addDirectorAddress(vip);
      const web = service({ address: vip });
      executeOk([{ kind: "new-service", service: web }]);
      for (const backend of network.backends) {
        await startTcpNameServer(backend, 80);
        executeOk([{ kind: "new-destination", service: web, destination: destination(backend.address, { port: 80 }) }]);
      }
      for (let i = 0; i < 4; i++) tcpRequest(network.client, vip, 80);

      const counted = await waitFor(() => {
        const stats = client.listServices()[0]?.stats;
        return stats && stats.connections >= 4 ? stats : undefined;
      });
      expect(counted.connections).toBe(4);
      expect(counted.bytesIn).toBeGreaterThan(0);
      expect(counted.packetsIn).toBeGreaterThan(0);

      executeOk([{ kind: "set-service", service: { ...web, scheduler: "wlc" } }]);
      const [after] = client.listServices() as [KernelService];
      expect(after.scheduler).toBe("wlc");
      expect(after.stats?.connections).toBe(4);
      expect(client.listDestinations(web)).toHaveLength(2);
    },
    TRAFFIC_TIMEOUT_MS,
  );
});

/** Polls until `probe` returns a value: the kernel folds per-CPU counters in every 2 s. */
async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`Nothing after ${timeoutMs} ms`);
    await Bun.sleep(250);
  }
}
