/**
 * udp_ntp against chronyd, an NTP server we did not write, serving on a loopback port from a test config (-x: it
 * never touches the host's clock): synchronised to its local clock (`local stratum 8`) it is healthy; without `local`
 * it has no source, answers unsynchronised (leap 3, stratum 0), and is unhealthy; stopped, it is taken down
 * through the real monitor within fail_after × interval.
 */

import { expect, test } from "bun:test";
import { udpNtpChecker } from "../../../src/health/checks/udp-ntp.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { testDownAfterStop } from "./support/down-after-stop.ts";
import { describeWithPeers, findBinary, freeUdpPort, scratchDir, startPeer, type Peer } from "./support/peers.ts";
import { checkScope, targetFor } from "./support/scope.ts";

const HEALTH: HealthFile = { enabled: true, type: "udp_ntp", port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2 };
const target = targetFor(HEALTH);

const scope = checkScope();
/** chronyd serving NTP on 127.0.0.1:<port>, with no command sockets (cmdport 0, bindcmdaddress /) and no files elsewhere. */
async function chronyd(localStratum: number | undefined): Promise<Peer> {
  const port = await freeUdpPort();
  const dir = scratchDir("chrony");
  scope.cleanups.push(dir.remove);
  const config = dir.write(
    "chrony.conf",
    [
      `port ${port}`,
      "bindaddress 127.0.0.1",
      "allow 127.0.0.1",
      ...(localStratum === undefined ? [] : [`local stratum ${localStratum}`]),
      "cmdport 0",
      "bindcmdaddress /",
      `pidfile ${dir.path}/chronyd.pid`,
      "",
    ].join("\n"),
  );
  // -d: foreground, log to stderr; -x: never adjust the system clock; -u root: no privilege drop.
  const peer = await startPeer([findBinary("chronyd")!, "-d", "-x", "-u", "root", "-f", config], "udp", port);
  scope.peers.push(peer);
  return peer;
}

describeWithPeers("udp_ntp against chronyd", ["chronyd", "ss"], () => {
  test("a chronyd serving its local clock at stratum 8 is healthy; ntp_max_stratum below 8 is not", async () => {
    const server = await chronyd(8);
    expect(await udpNtpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringMatching(/^stratum 8 in \d+(\.\d)? ms$/) });
    expect(await udpNtpChecker.probe(target(server.port, { ntp_max_stratum: 8 }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
    expect(await udpNtpChecker.probe(target(server.port, { ntp_max_stratum: 7 }), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "stratum 8, above ntp_max_stratum 7" });
  });

  test("an unsynchronised chronyd (no source, no `local`) is unhealthy", async () => {
    const server = await chronyd(undefined);
    expect(await udpNtpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "server not synchronised (stratum 0, leap indicator 3)" });
  });

  testDownAfterStop(scope, {
    peerName: "chronyd",
    protocol: "udp",
    health: { type: "udp_ntp" },
    start: () => chronyd(8),
    reason: "ICMP port unreachable",
  });
});

test("each request carries a new random transmit timestamp", async () => {
  const seen = new Set<string>();
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "uint8array",
    socket: {
      data(s, data, port, address) {
        seen.add(Buffer.from(data.subarray(40, 48)).toString("hex"));
        s.send(new Uint8Array(48), port, address);
      },
      error() {},
    },
  });
  try {
    for (let i = 0; i < 10; i++) {
      // An all-zero reply: mode 0, so a failure, but the request has been seen.
      expect(await udpNtpChecker.probe(target(socket.port), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "reply in mode 0, expected 4 (server)" });
    }
  } finally {
    socket.close();
  }
  expect(seen.size).toBe(10);
});
