/**
 * udp_sip against sipp (SIPp 3.6, a SIP test tool we did not write) as a UAS on a loopback port, with scenarios
 * that answer OPTIONS: 200 (healthy), 503 (unhealthy), 100 Trying then 200 (healthy), a 200 carrying another
 * Call-ID (unhealthy); and a stopped sipp through the real monitor.
 */

import { expect, test } from "bun:test";
import { udpSipChecker } from "../../../src/health/checks/udp-sip.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { testDownAfterStop } from "./support/down-after-stop.ts";
import { describeWithPeers, findBinary, freeUdpPort, scratchDir, startPeer, type Peer } from "./support/peers.ts";
import { checkScope, targetFor } from "./support/scope.ts";

const HEALTH: HealthFile = { enabled: true, type: "udp_sip", port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2 };
const target = targetFor(HEALTH);

const scope = checkScope();
/** A sipp response to the last request; sipp fills the [fields] from it. `callId` replaces its Call-ID. */
function response(status: string, callId = "[last_Call-ID:]"): string {
  return `  <send>
    <![CDATA[

      SIP/2.0 ${status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      ${callId}
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>`;
}

/** sipp as a UAS that receives OPTIONS and sends `responses`, one call per request (each probe has its own Call-ID). */
async function sipp(...responses: string[]): Promise<Peer> {
  const port = await freeUdpPort();
  const dir = scratchDir("sipp");
  scope.cleanups.push(dir.remove);
  const scenario = dir.write(
    "uas.xml",
    `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="OPTIONS UAS">\n  <recv request="OPTIONS"/>\n${responses.join("\n")}\n</scenario>\n`,
  );
  // -t u1: one UDP socket; -nostdin: no keyboard control; cwd: the scratch folder takes any log files.
  const peer = await startPeer([findBinary("sipp")!, "-sf", scenario, "-i", "127.0.0.1", "-p", `${port}`, "-t", "u1", "-nostdin"], "udp", port, { cwd: dir.path });
  scope.peers.push(peer);
  return peer;
}

describeWithPeers("udp_sip against sipp", ["sipp", "ss"], () => {
  test("200 OK to our OPTIONS is healthy, with the default URI and with sip_uri", async () => {
    const server = await sipp(response("200 OK"));
    expect(await udpSipChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringMatching(/^SIP 200 OK in \d+(\.\d)? ms$/) });
    expect(await udpSipChecker.probe(target(server.port, { sip_uri: "sip:health@lb.example" }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("503 is unhealthy unless sip_expect_status allows it", async () => {
    const server = await sipp(response("503 Service Unavailable"));
    expect(await udpSipChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "SIP 503 Service Unavailable, expected 200" });
    expect(await udpSipChecker.probe(target(server.port, { sip_expect_status: [[200, 299], [500, 503]] }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("100 Trying, then 200: the probe waits for the final response", async () => {
    const server = await sipp(response("100 Trying"), response("200 OK"));
    expect(await udpSipChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringContaining("SIP 200 OK") });
  });

  test("only 100 Trying: the timeout says what came", async () => {
    const server = await sipp(response("100 Trying"));
    expect(await udpSipChecker.probe(target(server.port, { timeout_ms: 300 }), AbortSignal.timeout(300))).toMatchObject({
      ok: false,
      reason: "timed out after 300 ms (last reply: SIP 100 Trying)",
    });
  });

  test("a 200 for another Call-ID is unhealthy", async () => {
    const server = await sipp(response("200 OK", "Call-ID: somebody-else@example"));
    expect(await udpSipChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      reason: "SIP 200 does not answer this request: the Call-ID is somebody-else@example, not this request's",
    });
  });

  testDownAfterStop(scope, {
    peerName: "sipp",
    protocol: "udp",
    health: { type: "udp_sip" },
    start: () => sipp(response("200 OK")),
    reason: "ICMP port unreachable",
  });
});

test("each probe has its own branch, Call-ID and CSeq; IPv6 addresses are bracketed", async () => {
  const requests: string[] = [];
  const socket = await Bun.udpSocket({
    hostname: "::1",
    port: 0,
    binaryType: "uint8array",
    socket: {
      data(s, data, port, address) {
        const text = new TextDecoder().decode(data);
        requests.push(text);
        const header = (name: string) => new RegExp(`^${name}: .*$`, "m").exec(text)![0];
        s.send(`SIP/2.0 200 OK\r\n${header("Via")}\r\n${header("Call-ID")}\r\n${header("CSeq")}\r\nContent-Length: 0\r\n\r\n`, port, address);
      },
      error() {},
    },
  });
  try {
    for (let i = 0; i < 5; i++) expect(await udpSipChecker.probe(target(socket.port, {}, "::1"), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  } finally {
    socket.close();
  }
  const field = (pattern: RegExp) => new Set(requests.map((r) => pattern.exec(r)![1]));
  expect(field(/branch=(z9hG4bK[0-9a-f]+);/).size).toBe(5);
  expect(field(/^Call-ID: (\S+)$/m).size).toBe(5);
  expect(requests[0]).toStartWith(`OPTIONS sip:ping@[::1]:${socket.port} SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:`);
});
