import { run } from "./exec.ts";
import type { LabNamespace } from "./netns.ts";

export interface RequestOptions {
  /** Sent after connecting (TCP) or as the datagram (UDP). */
  payload?: string;
  /** Give up after this long; default 30 s (a loaded, emulated guest can take seconds to fork a server child). */
  timeoutSeconds?: number;
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Connects from the namespace to address:port, sends the payload, and returns the answer, trimmed. */
export function tcpRequest(namespace: LabNamespace, address: string, port: number, options: RequestOptions = {}): string {
  const timeout = options.timeoutSeconds ?? 30;
  const target = `TCP:${hostPort(address, port)},connect-timeout=${timeout}`;
  const argv = ["ip", "netns", "exec", namespace.name, "socat", `-t${timeout}`, `-T${timeout}`, "-", target];
  return run(argv, { input: options.payload ?? "", timeoutMs: (timeout + 5) * 1000 }).trim();
}

/**
 * Sends one datagram from the namespace and returns the answer, trimmed; from a startUdpEchoServer that is
 * "<reply>\n<payload>".
 */
export function udpRequest(namespace: LabNamespace, address: string, port: number, options: RequestOptions = {}): string {
  const timeout = options.timeoutSeconds ?? 30;
  // null-eof: the server's empty datagram ends the exchange instead of waiting out the timeout.
  const target = `UDP:${hostPort(address, port)},null-eof`;
  const argv = ["ip", "netns", "exec", namespace.name, "socat", `-t${timeout}`, `-T${timeout}`, "-", target];
  return run(argv, { input: options.payload ?? "ping\n", timeoutMs: (timeout + 5) * 1000 }).trim();
}
