/** What a server block contributes to a service: its listen, its target and its location. */

import type { Listen } from "./listen.ts";
import type { Directive } from "./parse.ts";
import type { Context } from "./upstream.ts";

/** A server block's claim on the ports it proxies, for grouping and conflicts. */
export interface Claim {
  server: Directive;
  listen: Listen;
  /** The upstream's name, or the single address of proxy_pass. */
  target: string;
  upstream: Directive | undefined;
  proxyPass: Directive;
  context: Context;
  /** Extra header notes and warnings already given for this server (http-as-tcp's losses). */
  notes: string[];
  health?: Directive;
}

