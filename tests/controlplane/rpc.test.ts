import { expect, test } from "bun:test";
import { ControlPlaneError, RpcCode } from "../../src/controlplane/errors.ts";
import { decodeMessage, errorReply, request, resultReply } from "../../src/controlplane/rpc.ts";

test("requests, results and errors decode; round trip of what we send", () => {
  expect(decodeMessage(JSON.stringify(request(1, "config.hello", { node: "lb-b", digest: null })))).toEqual({
    kind: "request", id: 1, method: "config.hello", params: { node: "lb-b", digest: null },
  });
  expect(decodeMessage(JSON.stringify(resultReply("7", { digest: "ab" })))).toEqual({ kind: "result", id: "7", result: { digest: "ab" } });
  const refusal = new ControlPlaneError(RpcCode.pathRefused, "no", { path: "../x" });
  expect(decodeMessage(JSON.stringify(errorReply(3, refusal)))).toEqual({
    kind: "error", id: 3, error: { code: 1002, message: "no", data: { reason: "path_refused", path: "../x" } },
  });
});

test("malformed input gets the standard codes", () => {
  const code = (line: string) => {
    const message = decodeMessage(line);
    return message.kind === "invalid" ? message.error.code : message.kind;
  };
  expect(code("{not json")).toBe(-32700);
  expect(code("[1,2]")).toBe(-32600);
  expect(code('{"id":1,"method":"x"}')).toBe(-32600); // no jsonrpc
  expect(code('{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}')).toBe(-32602);
  expect(code('{"jsonrpc":"2.0","id":1}')).toBe(-32600);
});

test("every error carries data.reason", () => {
  for (const value of Object.values(RpcCode)) {
    expect(typeof new ControlPlaneError(value, "m").data.reason).toBe("string");
  }
});
