import { describe, expect, test } from "bun:test";
import { createIpvsClient } from "../../src/ipvs/client.ts";
import {
  EncodeError,
  IpvsUnavailableError,
  LibraryMissingError,
  NetlinkDecodeError,
  NetlinkError,
  TransportError,
} from "../../src/ipvs/errors.ts";
import type { IpvsOperation, ServiceKey, ServiceSpec } from "../../src/ipvs/types.ts";
import { ack } from "./support/bytes.ts";
import { FakeTransport, eachRequest } from "./support/fake-transport.ts";

const key: ServiceKey = { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 };
const spec: ServiceSpec = { ...key, scheduler: "mh", flags: 0, timeout: 0, netmask: 0xffffffff, persistenceEngine: "" };
const destination = { family: 4 as const, address: "10.0.0.10", port: 80, forward: "nat" as const, weight: 1, upperThreshold: 0, lowerThreshold: 0 };

function refusal(operation: IpvsOperation, errno: number): Error {
  const fake = new FakeTransport(eachRequest((r) => [[ack(r.seq, errno)]]));
  const result = createIpvsClient(fake).execute([operation]);
  if (result.ok) throw new Error("expected a refusal");
  expect(result.failedIndex).toBe(0);
  expect(result.succeeded).toEqual([]);
  return result.error;
}

describe("kernel refusals become operator messages", () => {
  test.each<[string, IpvsOperation, number, string]>([
    ["missing scheduler", { kind: "new-service", service: spec }, 2, "Kernel refused create-service tcp:192.0.2.10:80: scheduler 'mh' is not available: load kernel module ip_vs_mh (this kernel may not ship it)"],
    [
      "missing scheduler or persistence engine",
      { kind: "set-service", service: { ...spec, scheduler: "sh", persistenceEngine: "sip" } },
      2,
      "Kernel refused update-service tcp:192.0.2.10:80: scheduler 'sh' or persistence engine 'sip' is not available: load kernel modules ip_vs_sh and ip_vs_pe_sip (this kernel may not ship them)",
    ],
    ["duplicate service", { kind: "new-service", service: spec }, 17, "Kernel refused create-service tcp:192.0.2.10:80: service already exists"],
    ["duplicate destination", { kind: "new-destination", service: key, destination }, 17, "Kernel refused create-destination 10.0.0.10:80 of tcp:192.0.2.10:80: destination already exists"],
    ["destination of a missing service", { kind: "new-destination", service: key, destination }, 3, "Kernel refused create-destination 10.0.0.10:80 of tcp:192.0.2.10:80: no such service"],
    ["missing destination", { kind: "del-destination", service: key, destination }, 2, "Kernel refused delete-destination 10.0.0.10:80 of tcp:192.0.2.10:80: no such destination"],
    ["missing service", { kind: "del-service", service: key }, 3, "Kernel refused delete-service tcp:192.0.2.10:80: no such service"],
    ["not root", { kind: "del-service", service: key }, 1, "Kernel refused delete-service tcp:192.0.2.10:80: need root (CAP_NET_ADMIN)"],
    ["bad settings", { kind: "set-destination", service: key, destination }, 22, "Kernel refused update-destination 10.0.0.10:80 of tcp:192.0.2.10:80: the settings are invalid"],
    ["weight out of range", { kind: "set-destination", service: key, destination }, 34, "Kernel refused update-destination 10.0.0.10:80 of tcp:192.0.2.10:80: weight or connection thresholds out of range"],
    [
      "no IPv6 in the kernel",
      { kind: "new-service", service: { ...spec, family: 6, address: "2001:db8::1", netmask: 128 } },
      97,
      "Kernel refused create-service tcp:[2001:db8::1]:80: IPv6 support is missing: the kernel was built without CONFIG_IP_VS_IPV6",
    ],
    ["an errno without a story", { kind: "del-service", service: key }, 123, "Kernel refused delete-service tcp:192.0.2.10:80: kernel error errno 123"],
  ])("%s", (_, operation, errno, message) => {
    const error = refusal(operation, errno);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error.message).toBe(message);
    expect((error as NetlinkError).errno).toBe(errno);
  });
});

test("every error class has a code and a capitalised message without a trailing period", () => {
  const errors = [
    new NetlinkError(17, "create-service tcp:192.0.2.10:80", "service already exists"),
    new LibraryMissingError("libnl-genl-3"),
    new IpvsUnavailableError(),
    new TransportError("Netlink receive queue overflowed", 5),
    new NetlinkDecodeError("attribute 3 of service is 2 bytes"),
    new EncodeError("Address 'x' is not an IPv4 address"),
  ];
  expect(errors.map((e) => e.code)).toEqual(["E_NETLINK", "E_LIBRARY_MISSING", "E_IPVS_UNAVAILABLE", "E_TRANSPORT", "E_DECODE", "E_ENCODE"]);
  for (const error of errors) {
    expect(error.message).toMatch(/^[A-Z]/);
    expect(error.message).not.toMatch(/\.$/);
    expect(error.name).toBe(error.constructor.name);
  }
  expect(errors[1]?.message).toBe(
    "Library libnl-genl-3 is not installed: install package libnl-genl-3-200 (Debian/Ubuntu) or libnl3 (RHEL/Alma)",
  );
  expect(errors[2]?.message).toBe("The IPVS generic netlink family is missing: load the ip_vs kernel module (modprobe ip_vs)");
});
