/** The frontend and backend interfaces (admin state and carrier) and the VIPs: present or not, and what that means. */

import { announcedVips } from "../../config/bgp.ts";
import { configuredVips } from "../../config/model.ts";
import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

const IFF_UP = 0x1;

export function checkInterfaces(ctx: DoctorContext): CheckResult[] {
  const { config, probe } = ctx;
  if (!config) return [];
  const results: CheckResult[] = [];
  const wanted: [string, string | undefined, string][] = [
    ["frontend", config.main.network.frontend.interface, "network.frontend.interface"],
    ["backend", config.main.network.backend.interface, "network.backend.interface"],
  ];
  for (const [side, iface, key] of wanted) {
    const name = `interface ${side}`;
    if (!iface) {
      results.push(
        side === "frontend" && config.main.vrrp
          ? fail(name, `${key} is not set, but VRRP needs the interface it runs on`, `set ${key} in ${ctx.configPath}`)
          : pass(name, `${key} is not set: nothing to check`),
      );
      continue;
    }
    const base = `/sys/class/net/${iface}`;
    const flags = probe.readText(`${base}/flags`);
    if (flags === undefined) {
      results.push(fail(name, `${iface} (${key}) does not exist on this host`, `create ${iface} or correct ${key} in ${ctx.configPath}`));
      continue;
    }
    if ((Number.parseInt(flags.trim(), 16) & IFF_UP) === 0) {
      results.push(fail(name, `${iface} is administratively down`, `ip link set dev ${iface} up (and enable it in the host's network configuration)`));
      continue;
    }
    // carrier reads 1/0 while up; operstate "unknown" is normal for virtual devices without carrier reporting.
    const carrier = probe.readText(`${base}/carrier`)?.trim();
    const operstate = probe.readText(`${base}/operstate`)?.trim() ?? "unknown";
    if (carrier === "0" || operstate === "down" || operstate === "lowerlayerdown") {
      results.push(fail(name, `${iface} is up but has no carrier (operstate ${operstate})`, `check the cable, the switch port or the lower device of ${iface}`));
      continue;
    }
    results.push(pass(name, `${iface} is up with carrier (operstate ${operstate})`));
  }
  return results;
}

export function checkVips(ctx: DoctorContext): CheckResult[] {
  const { config, probe } = ctx;
  if (!config) return [];
  const vips = [...new Set([config.main.network.frontend.vip, ...configuredVips(config)])].sort();
  const local = probe.localAddresses();
  if (local instanceof Error) return [fail("vip", `Cannot list this host's addresses: ${local.message}`, "run as root with libnl-3 installed")];
  const role = config.main.node.role;
  const standby = config.main.daemon.standby;
  const vrrp = Boolean(config.main.vrrp);
  const standbyMeaning =
    standby === "warm"
      ? "with daemon.standby warm its services stay programmed, ready for a failover"
      : "with daemon.standby cold the daemon removes its services until the VIP arrives";
  const links = probe.links();
  const announced = new Set(announcedVips(config));
  return vips.map((vip) => {
    const name = `vip ${vip}`;
    if (announced.has(vip)) {
      // bgp: every director serves the VIP through lbctl's local route; an address would pin the announcement.
      return local.has(vip)
        ? fail(name, "announced over BGP but also an address of an interface: zebra then has a connected route for it, and lbctl can never withdraw the VIP when this director cannot serve it", `ip addr del ${vip}/${vip.includes(":") ? 128 : 32} dev IFACE (lbctl makes the VIP local with a route: ip route show table local proto 250)`)
        : pass(name, "announced over BGP: lbctl makes it local with a route and announces it while this director can serve it");
    }
    // FRR's VRRP keeps the VIP on its macvlan in Backup too, with the device in protodown: that is not holding it.
    const carrier = links?.find((link) => link.addresses.some((a) => a.split("/")[0] === vip));
    const dormant = carrier !== undefined && (carrier.protodown || !carrier.lowerUp || !carrier.up);
    const held = local.has(vip) && !dormant;
    if (dormant && role === "primary" && vrrp) {
      return warn(name, `on ${carrier.name}, which is ${carrier.protodown ? "in protodown (FRR's VRRP Backup state)" : "down"}: this primary is not the master now; ${standbyMeaning}`, "vtysh -c 'show vrrp' to see why the peer is master");
    }
    if (!vrrp) {
      return held
        ? pass(name, `held on this host: it receives the VIP's traffic (no vrrp section: keepalived or the operator assigns it)`)
        : warn(name, `not on any local interface and no vrrp section in the config: nothing here will assign it; ${standbyMeaning}`, `ip addr add ${vip}/${vip.includes(":") ? 128 : 32} dev ${config.main.network.frontend.interface ?? "IFACE"} (or let keepalived/FRR hold it)`);
    }
    if (role === "primary") {
      return held
        ? pass(name, "held: this primary is the VRRP master, as expected")
        : warn(name, `not held although this node is the primary: the secondary is master (this node came back and preemption has not happened yet) or VRRP does not run here; ${standbyMeaning}`, "vtysh -c 'show vrrp' (FRR) or journalctl -u keepalived to see why");
    }
    return held
      ? warn(name, "held by this secondary: the primary is down or unreachable, so this node carries the traffic", "check the primary; it takes the VIP back when it returns (VRRP preemption)")
      : pass(name, `not held: this secondary is the VRRP backup, as expected; ${standbyMeaning}`);
  });
}
