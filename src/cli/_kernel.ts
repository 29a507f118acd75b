/** What the kernel-facing commands (apply, status, disable) share: opening IPVS and the managed VIPs. */

import type { Config } from "../config/model.ts";
import { createIpvsClient } from "../ipvs/client.ts";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { IpvsError, IpvsUnavailableError } from "../ipvs/errors.ts";
import { ipvsMissing } from "../system/doctor/kernel.ts";
import type { IpvsAdminClient, KernelServiceEntry } from "../ipvs/types.ts";
import { configManagedVips, readManagedVips, StateFileError } from "../system/managed-vips.ts";
import { CliError } from "./errors.ts";

/** Opens the IPVS client and proves it works (one GET_INFO), so every IPVS failure surfaces here, once. */
export function openIpvs(): IpvsAdminClient {
  const client = createIpvsClient();
  try {
    client.info();
  } catch (error) {
    client.close();
    throw asCliError(error);
  }
  return client;
}

export function dumpKernel(client: IpvsAdminClient): KernelServiceEntry[] {
  try {
    return client.dump();
  } catch (error) {
    throw asCliError(error);
  }
}

/** Config VIPs (Kubernetes pool addresses included) plus those recorded in state_dir by earlier runs (config.md "Managed VIPs"). */
export function managedVips(config: Config): Set<string> {
  try {
    return new Set([...configManagedVips(config), ...readManagedVips(config.main.system.state_dir)]);
  } catch (error) {
    throw asCliError(error);
  }
}

export function asCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof IpvsUnavailableError) {
    // Say why, as doctor does: "modprobe ip_vs" on a kernel without the module sends the operator the wrong way.
    const { why, fix } = ipvsMissing(readHostFile, release());
    return new CliError(`IPVS is not available: ${why}. Fix: ${fix} (lbctl doctor checks the rest of the host)`, 1, error.code);
  }
  if (error instanceof IpvsError) return new CliError(error.message, 1, error.code);
  if (error instanceof StateFileError) return new CliError(error.message, 1, "E_STATE");
  return new CliError(error instanceof Error ? error.message : String(error));
}

function readHostFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
