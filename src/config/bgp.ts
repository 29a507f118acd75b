/** Which VIPs `bgp:` announces: `bgp.announce`, or every VIP of the service files when it is empty. */

import { configuredVips, type Config } from "./model.ts";

export function announcedVips(config: Pick<Config, "main" | "services">): string[] {
  const { bgp } = config.main;
  if (!bgp.enabled) return [];
  return bgp.announce.length > 0 ? [...new Set(bgp.announce)].sort() : configuredVips(config);
}
