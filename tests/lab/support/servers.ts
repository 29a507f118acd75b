import type { Subprocess } from "bun";
import type { LabNamespace } from "./netns.ts";

/** A server process inside a namespace. LabNetwork.destroy() stops it too; stop() is for tests that need it gone sooner. */
export interface LabServer {
  readonly port: number;
  readonly process: Subprocess;
  stop(): void;
}

export interface ServerOptions {
  /** What the server answers (default: the namespace's name). Letters, digits, dot, dash, underscore. */
  reply?: string;
  /** How long to wait for the server to listen; default 15 s. */
  readyTimeoutMs?: number;
}

const SAFE_REPLY = /^[A-Za-z0-9._-]+$/;
const POLL_INTERVAL_MS = 50;
const ANSWER_GRACE_SECONDS = 20;

function replyOf(namespace: LabNamespace, options: ServerOptions): string {
  const reply = options.reply ?? namespace.name;
  // The reply becomes part of a shell command line: allow only characters that need no quoting.
  if (!SAFE_REPLY.test(reply)) throw new RangeError(`A server reply may only use ${SAFE_REPLY.source}, not ${reply}`);
  return reply;
}

async function waitUntilListening(namespace: LabNamespace, protocol: "tcp" | "udp", port: number, timeoutMs: number) {
  const flags = protocol === "tcp" ? "-Hltn" : "-Hlun";
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    // Asynchronous, so that servers started together (Promise.all) get ready together.
    const probe = Bun.spawn(["ss", "-N", namespace.name, flags, `sport = :${port}`], { stdout: "pipe", stderr: "ignore" });
    const listening = await new Response(probe.stdout).text();
    await probe.exited;
    if (listening.trim()) return;
    await Bun.sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`No ${protocol} server listens on port ${port} in ${namespace.name} after ${timeoutMs} ms`);
}

async function startServer(
  namespace: LabNamespace,
  protocol: "tcp" | "udp",
  port: number,
  socatArgs: string[],
  timeoutMs: number,
): Promise<LabServer> {
  // Health probes connect and close without reading: socat then reports a broken pipe per probe. Not news.
  // -t: once the client has sent all it will (EOF), socat gives the forked shell this long to answer. Its default,
  // 0.5 s, is shorter than a fork and exec take in a loaded emulated guest: the client then got an empty answer.
  const child = Bun.spawn(["ip", "netns", "exec", namespace.name, "socat", "-t", String(ANSWER_GRACE_SECONDS), ...socatArgs], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    await waitUntilListening(namespace, protocol, port, timeoutMs);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return { port, process: child, stop: () => child.kill("SIGKILL") };
}

/** A TCP server that answers every connection with one line, its reply (the namespace's name by default), and closes. */
export function startTcpNameServer(namespace: LabNamespace, port: number, options: ServerOptions = {}): Promise<LabServer> {
  const reply = replyOf(namespace, options);
  const args = [`TCP-LISTEN:${port},fork,reuseaddr`, `SYSTEM:echo ${reply}`];
  return startServer(namespace, "tcp", port, args, options.readyTimeoutMs ?? 15_000);
}

/**
 * A UDP echo server that says who it is: it answers each datagram with its reply (the namespace's name by
 * default) on a line of its own, then the datagram itself, then an empty datagram that udpRequest takes as the
 * end of the answer.
 */
export function startUdpEchoServer(namespace: LabNamespace, port: number, options: ServerOptions = {}): Promise<LabServer> {
  const reply = replyOf(namespace, options);
  const args = [`UDP-RECVFROM:${port},fork,shut-null`, `SYSTEM:echo ${reply};cat`];
  return startServer(namespace, "udp", port, args, options.readyTimeoutMs ?? 15_000);
}
