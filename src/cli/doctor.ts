/** `lbctl doctor [--json]`: checks the host (kernel, libraries, interfaces, VIPs, sysctls, FRR, daemon); exit 1 on any FAIL. */

import { loadConfig } from "../config/load.ts";
import { daemonAnswers } from "../daemon/control-client.ts";
import { createHostProbe } from "../system/doctor/host-probe.ts";
import { exitCodeOf, renderReport, runDoctor } from "../system/doctor/run.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "doctor", description: "Check this host: IPVS, schedulers, libnl, interfaces, VIPs, sysctls, FRR, daemon, metrics" },
  args: {
    json: { type: "boolean", description: 'Print one JSON object: { "checks": [ { name, status, message, fix } ] }' },
  },
  async run({ args }) {
    const out = createOutput({ debug: args.debug });
    const file = configPath(args);
    const results = await runDoctor(createHostProbe({ daemonAnswers }), file, loadConfig(file));
    if (args.json) out.json({ checks: results });
    else out.print(renderReport(results));
    return exitCodeOf(results);
  },
});
