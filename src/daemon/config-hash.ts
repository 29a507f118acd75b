import { createHash } from "node:crypto";
import type { Config } from "../config/model.ts";

/** SHA-256 of the effective config (after defaults and expansion), for audit records of what changed. */
export function configHash(config: Pick<Config, "main" | "services">): string {
  const canonical = JSON.stringify({ main: config.main, services: config.services.map(({ source: _source, ...service }) => service) });
  return createHash("sha256").update(canonical).digest("hex");
}
