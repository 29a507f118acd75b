/**
 * The real libnl transport on the host. Development and CI hosts have no IPVS (see kernel-lab-facts.md): here the
 * library must load, a generic netlink socket must open, and resolving IPVS must fail with the error that tells the
 * operator what to do. The same transport against a kernel with IPVS is tested in the lab
 * (tests/lab/ipvs-client.test.ts, "the libnl transport").
 */

import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createIpvsClient } from "../../src/ipvs/client.ts";
import { IpvsUnavailableError, TransportError } from "../../src/ipvs/errors.ts";
import { createLibnlTransport } from "../../src/ipvs/transport/libnl.ts";

/** A host with IPVS cannot show the "module missing" path; the skip is reported, and the lab covers the rest. */
const hostHasIpvs = existsSync("/proc/net/ip_vs");
if (hostHasIpvs) process.stderr.write("\nSKIPPED tests/ipvs/libnl.test.ts 'IPVS missing' tests: this host has IPVS loaded (/proc/net/ip_vs)\n");

test.skipIf(hostHasIpvs)("libnl loads and opens a socket; resolving IPVS names the module to load", () => {
  const transport = createLibnlTransport();
  try {
    // Throws LibraryMissingError (a failure here) when libnl-genl-3 is not installed: lbctl cannot run without it.
    expect(transport.portId()).toBeGreaterThan(0);
    let error: unknown;
    try {
      transport.familyId();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(IpvsUnavailableError);
    expect((error as IpvsUnavailableError).code).toBe("E_IPVS_UNAVAILABLE");
    expect((error as Error).message).toBe("The IPVS generic netlink family is missing: load the ip_vs kernel module (modprobe ip_vs)");
  } finally {
    transport.close();
  }
  expect(() => transport.portId()).toThrow(new TransportError("The IPVS netlink socket is closed"));
});

test.skipIf(hostHasIpvs)("the client reports the missing module on its first read; an empty batch needs no IPVS", () => {
  const client = createIpvsClient();
  try {
    expect(client.execute([])).toEqual({ ok: true });
    expect(() => client.listServices()).toThrow(IpvsUnavailableError);
  } finally {
    client.close();
  }
});

test("creating a transport touches nothing until it is used", () => {
  const transport = createLibnlTransport();
  transport.close();
  expect(() => transport.send(new Uint8Array(16))).toThrow("The IPVS netlink socket is closed");
});
