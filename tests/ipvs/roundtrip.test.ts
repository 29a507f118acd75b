/**
 * Requests and the kernel's replies nest the same attributes, so a request decoded by the reply decoders must give
 * back what was encoded. This catches asymmetric byte orders and widths (moby/ipvs once wrote the weight as u32 and
 * read it as u16).
 */

import { expect, test } from "bun:test";
import { decodeDaemonMessage, decodeDestinationMessage, decodeServiceMessage, decodeTimeoutsMessage } from "../../src/ipvs/codec/replies.ts";
import { encodeNewDaemon, encodeOperation, encodeSetConfig } from "../../src/ipvs/codec/requests.ts";
import { MessageCursor } from "../../src/ipvs/netlink/messages.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import type { DestinationSpec, ServiceSpec, SyncDaemonSettings } from "../../src/ipvs/types.ts";

const header = { family: 32, seq: 1, port: 1 };

function roundTrip<T>(encode: (writer: MessageWriter) => void, decode: (message: MessageCursor) => T): T {
  const writer = new MessageWriter();
  encode(writer);
  const message = new MessageCursor(writer.bytes());
  expect(message.next()).toBe(true);
  return decode(message);
}

const services: ServiceSpec[] = [
  { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80, scheduler: "rr", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" },
  { family: 4, protocol: "udp", address: "198.51.100.255", port: 65535, scheduler: "sh", flags: 0x19, timeout: 3600, netmask: 0xffffff00, persistenceEngine: "" },
  { family: 6, protocol: "sctp", address: "2001:db8:0:1::ff", port: 1, scheduler: "mh", flags: 0x01, timeout: 60, netmask: 48, persistenceEngine: "sip" },
  { family: 6, protocol: "tcp", address: "::ffff:c000:201", port: 443, scheduler: "wlc", flags: 0x24, timeout: 0, netmask: 128, persistenceEngine: "" },
];

test.each(services)("service %o survives encode then decode", (service) => {
  const decoded = roundTrip(
    (w) => encodeOperation(w, header, { kind: "new-service", service }),
    (m) => decodeServiceMessage(m),
  );
  expect(decoded).toEqual({ ...service, fwmark: 0 });
});

test("the kernel's HASHED bit is neither sent nor reported", () => {
  const service = { ...services[0], flags: 0x03 } as ServiceSpec;
  const decoded = roundTrip(
    (w) => encodeOperation(w, header, { kind: "set-service", service }),
    (m) => decodeServiceMessage(m),
  );
  expect(decoded?.flags).toBe(0x01);
});

const destinations: DestinationSpec[] = [
  { family: 4, address: "10.0.0.10", port: 8080, forward: "nat", weight: 1, upperThreshold: 0, lowerThreshold: 0 },
  { family: 4, address: "10.255.0.1", port: 0, forward: "dr", weight: 65536, upperThreshold: 5000, lowerThreshold: 4000 },
  { family: 6, address: "2001:db8::2", port: 80, forward: "tun", weight: 0, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: "gue", port: 6080, flags: 3 } },
  { family: 4, address: "10.0.0.7", port: 0, forward: "tun", weight: 2147483647, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: "ipip", port: 0, flags: 0 } },
];

test.each(destinations)("destination %o survives encode then decode", (destination) => {
  const service = { family: 6 as const, protocol: "tcp" as const, address: "2001:db8::1", port: 80 };
  const decoded = roundTrip(
    (w) => encodeOperation(w, header, { kind: "new-destination", service, destination }),
    (m) => decodeDestinationMessage(m, 6),
  );
  expect(decoded).toEqual({ ...destination, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 });
});

test.each<SyncDaemonSettings>([
  { state: "master", interface: "eth0", syncId: 1 },
  { state: "backup", interface: "bond0.100", syncId: 255, maxLength: 1500, group: "239.1.2.3", port: 8848, ttl: 255 },
  { state: "master", interface: "eth2", syncId: 0, group: "ff15::1:2" },
])("sync daemon %o survives encode then decode", (daemon) => {
  expect(roundTrip((w) => encodeNewDaemon(w, header, daemon), (m) => decodeDaemonMessage(m))).toEqual(daemon);
});

test("timeouts survive encode then decode", () => {
  const timeouts = { tcp: 7200, tcpFin: 0, udp: 4294967295 };
  expect(roundTrip((w) => encodeSetConfig(w, header, timeouts), (m) => decodeTimeoutsMessage(m))).toEqual(timeouts);
});
