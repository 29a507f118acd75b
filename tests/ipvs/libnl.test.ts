/**
 * The real libnl transport on the host. Development and CI hosts have no IPVS (see kernel-lab-facts.md), which makes
 * them a test of the "module not loaded" path; on a host with IPVS the family resolves instead.
 */

import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { IpvsUnavailableError, LibraryMissingError, TransportError } from "../../src/ipvs/errors.ts";
import { createLibnlTransport } from "../../src/ipvs/transport/libnl.ts";

test("opens a generic netlink socket and resolves IPVS, or says which module is missing", () => {
  const transport = createLibnlTransport();
  try {
    try {
      expect(transport.portId()).toBeGreaterThan(0);
    } catch (error) {
      expect(error).toBeInstanceOf(LibraryMissingError); // a host without libnl: nothing more to test here
      return;
    }
    if (existsSync("/proc/net/ip_vs")) {
      expect(transport.familyId()).toBeGreaterThan(0);
    } else {
      expect(() => transport.familyId()).toThrow(IpvsUnavailableError);
    }
  } finally {
    transport.close();
  }
  expect(() => transport.portId()).toThrow(TransportError);
});

test("creating a transport touches nothing until it is used", () => {
  const transport = createLibnlTransport();
  transport.close();
  expect(() => transport.send(new Uint8Array(16))).toThrow("The IPVS netlink socket is closed");
});
