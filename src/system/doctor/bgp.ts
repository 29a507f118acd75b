/** bgp.enabled: bgpd enabled and running, the managed block in step with the config, and every session up. */

import { FrrConfigError, frrBlockFor } from "../frr/block.ts";
import { currentBlock } from "../frr/managed-block.ts";
import { FRR_DAEMONS_FILE } from "./frr.ts";
import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

export function checkBgp(ctx: DoctorContext): CheckResult[] {
  const { config, probe } = ctx;
  if (!config?.main.bgp.enabled) return [];
  const results: CheckResult[] = [];
  const daemons = probe.readText(FRR_DAEMONS_FILE);
  const enabled = daemons !== undefined && /^\s*bgpd\s*=\s*yes\s*$/m.test(daemons);
  const running = probe.processNames().has("bgpd");
  if (running) results.push(pass("bgp bgpd", "bgpd is running"));
  else if (!enabled) results.push(fail("bgp bgpd", `bgpd is not enabled in ${FRR_DAEMONS_FILE}`, `set bgpd=yes in ${FRR_DAEMONS_FILE}, then systemctl restart frr`));
  else results.push(fail("bgp bgpd", `bgpd is enabled in ${FRR_DAEMONS_FILE} but not running`, "systemctl restart frr"));

  const file = config.main.system.frr_config;
  try {
    const expected = frrBlockFor(config);
    const text = probe.readText(file);
    const found = text === undefined ? undefined : currentBlock(text, file);
    if (found === undefined) results.push(fail("bgp block", `${file} has no lbctl managed block`, "lbctl setup frr"));
    else if (found !== expected) results.push(fail("bgp block", `the managed block in ${file} differs from the config (lbctl setup frr --dry-run shows how)`, "lbctl setup frr"));
    else results.push(pass("bgp block", `the managed block in ${file} has the config's BGP sessions and announcement policy`));
  } catch (error) {
    if (!(error instanceof FrrConfigError)) throw error;
    results.push(fail("bgp block", error.message, "lbctl setup frr"));
  }

  const peers = probe.bgpPeers();
  if (peers instanceof Error) {
    results.push(warn("bgp sessions", `cannot read the sessions: ${peers.message}`, "vtysh -c 'show bgp summary'"));
    return results;
  }
  for (const neighbor of config.main.bgp.neighbors) {
    const state = peers.get(neighbor.address);
    const name = `bgp session ${neighbor.address}`;
    if (state === "Established") results.push(pass(name, `established with AS ${neighbor.remote_asn}`));
    else results.push(fail(name, state ? `the session is ${state}, not Established: this director announces nothing to ${neighbor.address}` : `bgpd has no session with ${neighbor.address}`, "vtysh -c 'show bgp neighbors'; check the router's side, the ASNs and the password"));
  }
  return results;
}
