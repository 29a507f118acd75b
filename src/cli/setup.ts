/** `lbctl setup frr|sysctl|files`: host integration. Each subcommand lives in its own file. */

import { lbctlCommand } from "./common.ts";

const load = <T>(module: Promise<{ default: T }>) => module.then((m) => m.default);

export default lbctlCommand({
  meta: { name: "setup", description: "Write host integration: FRR VRRP block, sysctl/module files, shipped files, control plane certificates" },
  subCommands: {
    frr: () => load(import("./setup-frr.ts")),
    sysctl: () => load(import("./setup-sysctl.ts")),
    files: () => load(import("./setup-files.ts")),
    certs: () => load(import("./setup-certs.ts")),
  },
});
