/**
 * `lbctl setup frr [--dry-run] [--macvlan]`: writes the managed VRRP block into system.frr_config (everything
 * outside the markers kept byte for byte; atomic; the previous file kept as one of 5 rotated backups in
 * state_dir/backups), reloads FRR when it runs, and checks the macvlan FRR's VRRP needs (`--macvlan` creates it).
 * `--dry-run` runs the same checks and exits as the real run would (1 while the macvlan is missing), changing nothing.
 */

import { accessSync, chownSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfigOrThrow } from "../config/load.ts";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { FrrConfigError, readBgpPassword, renderFrrBlock, vrrpPlan } from "../system/frr/block.ts";
import { bgpPlan, maskPasswords, renderBgpLines } from "../system/frr/bgp.ts";
import { parseIpJson, type LinkInfo } from "../system/frr/links.ts";
import { macvlanPlan, shellCommand } from "../system/frr/macvlan.ts";
import { replaceManagedBlock } from "../system/frr/managed-block.ts";
import { reloadFrr } from "../system/frr/reload.ts";
import { writeBackup } from "../system/setup/backups.ts";
import { unifiedDiff } from "../system/setup/diff.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

/** Why writing `target` (atomically: a temporary file beside it) would fail, or undefined. */
function cannotWrite(target: string): string | undefined {
  try {
    accessSync(dirname(target), constants.W_OK);
    return undefined;
  } catch (error) {
    return `cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} on ${dirname(target)}`;
  }
}

function readLinks(): LinkInfo[] {
  const proc = Bun.spawnSync(["ip", "-json", "-details", "address", "show"], { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new CliError(`ip -json -details address show failed: ${proc.stderr.toString().trim()}`);
  return parseIpJson(proc.stdout.toString());
}

export default lbctlCommand({
  meta: { name: "frr", description: "Write the managed VRRP block into FRR's config, reload FRR, check (or create) the VRRP macvlan" },
  args: {
    "dry-run": { type: "boolean", description: "Print the diff and what the macvlan lacks; change nothing" },
    macvlan: { type: "boolean", description: "Create or fix the macvlan FRR's VRRP needs (until reboot: make it permanent in the network config)" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    const dryRun = Boolean(args["dry-run"]);
    const file = configPath(args);
    const { config } = loadConfigOrThrow(file);
    let plan;
    let bgpLines: string[] = [];
    try {
      plan = vrrpPlan(config);
      const bgp = bgpPlan(config, readBgpPassword);
      if (bgp) bgpLines = renderBgpLines(bgp);
    } catch (error) {
      if (error instanceof FrrConfigError) throw new CliError(error.message);
      throw error;
    }
    if (!plan && bgpLines.length === 0) {
      throw new CliError(`${file} has neither a vrrp section nor bgp.enabled: nothing to write to FRR (add vrrp: { vrid: N } to use FRR's VRRP, or bgp: to announce the VIPs)`);
    }
    const target = config.main.system.frr_config;
    if (!existsSync(dirname(target))) {
      throw new CliError(`${dirname(target)} does not exist: install FRR (apt-get install frr / dnf install frr) or set system.frr_config`);
    }
    const before = existsSync(target) ? readFileSync(target, "utf8") : undefined;
    const block = renderFrrBlock(plan, config.main.node.name, config.main.node.role, bgpLines);
    let after: string;
    try {
      after = replaceManagedBlock(before ?? "", block, target);
    } catch (error) {
      if (error instanceof FrrConfigError) throw new CliError(error.message);
      throw error;
    }
    const macvlans = plan ? macvlanPlan(plan, readLinks(), config.main.network.frontend.vip, config.main.network.frontend.cidr) : [];

    if (dryRun) {
      // The same checks as a real run, so the exit code is the one a real run would have.
      // Session passwords stay out of terminals and logs.
      out.print(maskPasswords(unifiedDiff(target, before, after)) || `${target}: no change`);
      const unwritable = before !== after ? cannotWrite(target) : undefined;
      if (unwritable) out.log.error(unwritable);
      let failing = unwritable ? 1 : 0;
      for (const family of macvlans) {
        for (const problem of family.problems) out.print(`macvlan: ${problem}`);
        if (family.problems.length === 0) continue;
        if (args.macvlan && family.commands.length > 0) {
          for (const command of family.commands) out.print(`  would run: ${shellCommand(command)}`);
        } else {
          failing++;
          if (family.commands.length > 0) out.print(`  to fix it: ${family.commands.map(shellCommand).join(" && ")} (or rerun with --macvlan)`);
        }
      }
      return failing > 0 ? ExitCode.failed : ExitCode.ok;
    }

    if (before !== after) {
      if (before !== undefined) {
        const backup = writeBackup(target, before, join(config.main.system.state_dir, "backups"), new Date());
        out.log.info(`previous ${target} kept as ${backup}`);
      }
      const stat = before !== undefined ? statSync(target) : undefined;
      writeFileAtomic(target, after, { mode: stat ? stat.mode & 0o7777 : 0o640 });
      if (stat) chownSync(target, stat.uid, stat.gid); // FRR reads its config as user frr
      const parts = [
        ...(plan ? [`VRRP ${plan.vrid}, priority ${plan.priority}, advertisement-interval ${plan.advertIntervalMs} ms`] : []),
        ...(bgpLines.length > 0 ? [`BGP AS ${config.main.bgp.local_asn}, ${config.main.bgp.neighbors.length} neighbour(s)`] : []),
      ];
      out.log.success(`wrote the managed block to ${target} (${parts.join("; ")})`);
      const reload = reloadFrr();
      if (reload.reloaded) out.log.success(`FRR reloaded (${reload.how})`);
      else if (reload.error) out.log.error(`${reload.reason}: ${reload.error}`);
      else out.log.info(reload.reason);
    } else {
      out.log.success(`${target} already has the managed block for this config`);
    }

    let missing = 0;
    for (const family of macvlans) {
      if (family.problems.length === 0) continue;
      if (args.macvlan && family.commands.length > 0) {
        for (const command of family.commands) {
          const proc = Bun.spawnSync(["ip", ...command], { stdout: "ignore", stderr: "pipe" });
          if (proc.exitCode !== 0) throw new CliError(`${shellCommand(command)} failed: ${proc.stderr.toString().trim()}`);
          out.log.success(shellCommand(command));
        }
        out.log.info(`${family.device} exists until reboot: add it to the host's network configuration to keep it`);
        continue;
      }
      missing++;
      for (const problem of family.problems) out.log.error(`FRR's VRRP (IPv${family.family}) cannot work yet: ${problem}`);
      if (family.commands.length > 0) out.log.info(`to fix it: ${family.commands.map(shellCommand).join(" && ")} (or rerun with --macvlan)`);
    }
    return missing > 0 ? ExitCode.failed : ExitCode.ok;
  },
});
