/**
 * Errors of the health-checking core, each with a stable `code` and a message for the operator who has to act on it
 * (capitalised, no trailing period).
 */

import type { CheckType } from "./types.ts";

export type HealthErrorCode = "E_CHECK_UNSUPPORTED";

export class HealthError extends Error {
  readonly code: HealthErrorCode;

  constructor(code: HealthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The config asks for a check type this build cannot run. Thrown before any check starts (daemon start, reload), so
 * a config is refused loudly instead of marking every backend of those services down.
 */
export class UnsupportedCheckError extends HealthError {
  /** Each missing type with the services that use it. */
  readonly missing: ReadonlyArray<{ type: CheckType; services: readonly string[] }>;
  readonly available: readonly CheckType[];

  constructor(missing: ReadonlyArray<{ type: CheckType; services: readonly string[] }>, available: readonly CheckType[]) {
    const list = missing.map(({ type, services }) => (services.length === 0 ? type : `${type} (service${services.length > 1 ? "s" : ""} ${services.join(", ")})`)).join("; ");
    super(
      "E_CHECK_UNSUPPORTED",
      `Health check type${missing.length > 1 ? "s" : ""} not available in this version of lbctl: ${list}; available: ${available.join(", ")}`,
    );
    this.missing = missing;
    this.available = available;
  }
}
