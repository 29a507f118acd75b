/** The spec's JSON-RPC error codes (spec/controlplane.md "Errors") and the typed error that carries one. */

export const RpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  messageTooLarge: -32005,
  checksumMismatch: 1001,
  pathRefused: 1002,
  configInvalid: 1003,
  rateLimited: 1004,
  tooManyFiles: 1005,
  baseMismatch: 1006,
  changeLimit: 1007,
  writeFailed: 1008,
} as const;

export type RpcCodeValue = (typeof RpcCode)[keyof typeof RpcCode];

/** Short names for logs, audit records and the `refused` counter's reasons. */
export const REASONS: Record<RpcCodeValue, string> = {
  [-32700]: "parse_error",
  [-32600]: "invalid_request",
  [-32601]: "method_not_found",
  [-32602]: "invalid_params",
  [-32005]: "message_too_large",
  1001: "checksum_mismatch",
  1002: "path_refused",
  1003: "config_invalid",
  1004: "rate_limited",
  1005: "too_many_files",
  1006: "base_mismatch",
  1007: "change_limit",
  1008: "write_failed",
};

/** A refusal to send back as a JSON-RPC error: `data.reason` is always set, other data fields as the spec says. */
export class ControlPlaneError extends Error {
  override readonly name = "ControlPlaneError";
  readonly data: Record<string, unknown>;
  constructor(
    readonly code: RpcCodeValue,
    message: string,
    data: Record<string, unknown> = {},
  ) {
    super(message);
    this.data = { reason: REASONS[code], ...data };
  }
}
