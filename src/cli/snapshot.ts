/** `lbctl snapshot save|list|show|restore`: snapshots of the managed part of the kernel table. One file per subcommand. */

import { lbctlCommand } from "./common.ts";

const load = <T>(module: Promise<{ default: T }>) => module.then((m) => m.default);

export default lbctlCommand({
  meta: { name: "snapshot", description: "Save, list, show and restore snapshots of the managed IPVS table (state_dir/snapshots)" },
  subCommands: {
    save: () => load(import("./snapshot-save.ts")),
    list: () => load(import("./snapshot-list.ts")),
    show: () => load(import("./snapshot-show.ts")),
    restore: () => load(import("./snapshot-restore.ts")),
  },
});
