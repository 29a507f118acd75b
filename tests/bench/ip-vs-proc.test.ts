import { expect, test } from "bun:test";
import { parseProcIpVs, weightsOf } from "../../bench/ip-vs-proc.ts";

// Read in the kernel lab guest (Debian 12 kernel) after ipvsadm -A/-a of these services.
const SAMPLE = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
UDP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0035 rr 
  -> [2001:0db8:0000:0000:0000:0000:0000:0002]:0035      Masq    1      0          0         
TCP  0AE60001:1F40 wlc  
  -> 0A010202:0050      Masq    3      0          0         
  -> 0A010102:0050      Masq    0      0          0         
FWM  00000007 rr 
`;

test("/proc/net/ip_vs: hexadecimal addresses and ports decoded, weights read", () => {
  const services = parseProcIpVs(SAMPLE);
  expect(services.map((s) => [s.protocol, s.address, s.port, s.scheduler, s.destinations.length])).toEqual([
    ["UDP", "2001:0db8:0000:0000:0000:0000:0000:0001", 53, "rr", 1],
    ["TCP", "10.230.0.1", 8000, "wlc", 2],
    ["FWM", "00000007", 0, "rr", 0],
  ]);
  expect(services[1]!.destinations).toEqual([
    { address: "10.1.2.2", port: 80, forward: "Masq", weight: 3 },
    { address: "10.1.1.2", port: 80, forward: "Masq", weight: 0 },
  ]);
});

test("the weights of one backend across services", () => {
  const services = parseProcIpVs(SAMPLE);
  expect(weightsOf(services, "10.1.1.2", 80)).toEqual({ total: 1, zero: 1 });
  expect(weightsOf(services, "10.1.2.2", 80)).toEqual({ total: 1, zero: 0 });
  expect(weightsOf(services, "10.1.2.2", 81)).toEqual({ total: 0, zero: 0 });
});

test("a destination line before any service is an error", () => {
  expect(() => parseProcIpVs("  -> 0A010102:0050      Masq    0      0          0")).toThrow(/before any service/);
});
