/**
 * JSON-RPC 2.0 messages of the control plane: decoding one line into a request, a response or an error (or the
 * error to answer with), and building the replies. Pure.
 */

import { ControlPlaneError, RpcCode } from "./errors.ts";

export type RpcId = string | number;

export interface RpcRequest {
  kind: "request";
  id: RpcId | undefined;
  method: string;
  params: Record<string, unknown>;
}

export interface RpcResult {
  kind: "result";
  id: RpcId;
  result: unknown;
}

export interface RpcFailure {
  kind: "error";
  id: RpcId | null;
  error: { code: number; message: string; data?: unknown };
}

export type RpcMessage = RpcRequest | RpcResult | RpcFailure;

/** A line that is not a valid message: what to answer (id null when it could not be read). */
export interface RpcDecodeFailure {
  kind: "invalid";
  id: RpcId | null;
  error: ControlPlaneError;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is RpcId => typeof value === "string" || (typeof value === "number" && Number.isFinite(value));

export function decodeMessage(line: string): RpcMessage | RpcDecodeFailure {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: "invalid", id: null, error: new ControlPlaneError(RpcCode.parseError, `not JSON: ${(error as Error).message}`) };
  }
  if (!isRecord(value) || value.jsonrpc !== "2.0") {
    return { kind: "invalid", id: null, error: new ControlPlaneError(RpcCode.invalidRequest, 'not a JSON-RPC 2.0 object ("jsonrpc": "2.0")') };
  }
  const id = isId(value.id) ? value.id : null;
  if (typeof value.method === "string") {
    if (value.params !== undefined && !isRecord(value.params)) {
      return { kind: "invalid", id, error: new ControlPlaneError(RpcCode.invalidParams, "params must be an object") };
    }
    return { kind: "request", id: id ?? undefined, method: value.method, params: (value.params as Record<string, unknown>) ?? {} };
  }
  if (id !== null && "result" in value) return { kind: "result", id, result: value.result };
  if ("error" in value && isRecord(value.error) && typeof value.error.code === "number") {
    const error = value.error;
    return { kind: "error", id, error: { code: error.code as number, message: String(error.message ?? ""), data: error.data } };
  }
  return { kind: "invalid", id, error: new ControlPlaneError(RpcCode.invalidRequest, "neither a request, a result nor an error") };
}

export function request(id: RpcId, method: string, params: Record<string, unknown>): Record<string, unknown> {
  return { jsonrpc: "2.0", id, method, params };
}

export function resultReply(id: RpcId, result: unknown): Record<string, unknown> {
  return { jsonrpc: "2.0", id, result };
}

export function errorReply(id: RpcId | null, error: ControlPlaneError): Record<string, unknown> {
  return { jsonrpc: "2.0", id, error: { code: error.code, message: error.message, data: error.data } };
}
