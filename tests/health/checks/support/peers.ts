/**
 * Real servers we did not write (socat, dnsmasq, sipp, chronyd, busybox httpd), started by the tests on loopback
 * ports they choose, as the peers of the checks. tests/lab/setup.sh installs them (CI runs it first).
 *
 * A peer that is not installed skips its tests loudly on a developer's machine, and fails them under CI=true: there
 * setup.sh has run, so a missing peer is a broken setup, not a reason to test less.
 */

import { describe, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const inCi = process.env.CI === "true" || process.env.CI === "1";

/** The full path of `binary` on PATH or in the sbin folders (dnsmasq, chronyd), or undefined. */
export function findBinary(binary: string): string | undefined {
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/local/sbin`;
  return Bun.which(binary, { PATH: path }) ?? undefined;
}

/**
 * `describe` when every binary is installed. Otherwise: under CI one failing test naming what is missing; elsewhere
 * the block is skipped with a warning on stderr.
 */
export function describeWithPeers(name: string, binaries: readonly string[], body: () => void): void {
  const missing = binaries.filter((binary) => findBinary(binary) === undefined);
  if (missing.length === 0) return describe(name, body);
  const message = `${missing.join(", ")} not installed: run tests/lab/setup.sh as root (it installs the test peers)`;
  if (inCi) {
    describe(name, () => {
      test("its real peers are installed", () => {
        throw new Error(`${message} (CI=true: a missing peer is a failure)`);
      });
    });
    return;
  }
  process.stderr.write(`\nSKIPPED "${name}": ${message}\n`);
  describe.skip(name, body);
}

/** A port that was free a moment ago on 127.0.0.1 (the kernel's choice, then released for the peer to take). */
export async function freeUdpPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const { port } = socket;
  socket.close();
  return port;
}

export function freeTcpPort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = server;
  server.stop(true);
  return port;
}

export interface Peer {
  readonly port: number;
  readonly process: Subprocess;
  /** Everything the peer wrote to stdout and stderr, for failure messages. */
  output(): string;
  /** Kills the peer and its children and waits until it is gone (its port is then closed: probes get ICMP or RST). */
  stop(): Promise<void>;
}

/** Spawns `argv` and waits until something listens on `protocol` 127.0.0.1:`port` (ss, independent of the checks). */
export async function startPeer(argv: string[], protocol: "udp" | "tcp", port: number, options: { cwd?: string; readyMs?: number } = {}): Promise<Peer> {
  // A process group of its own, so that stop() also ends what the peer forked (socat's children, their cat).
  const child = Bun.spawn(argv, { cwd: options.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) if (text.length < 100_000) text += decoder.decode(chunk, { stream: true });
  };
  void pump(child.stdout);
  void pump(child.stderr);
  const peer: Peer = {
    port,
    process: child,
    output: () => text,
    async stop() {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
      await child.exited;
    },
  };
  const deadline = performance.now() + (options.readyMs ?? 10_000);
  while (!(await listening(protocol, port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await peer.stop();
      throw new Error(`${argv[0]} did not listen on ${protocol} 127.0.0.1:${port} (exit ${child.exitCode}):\n${text}`);
    }
    await Bun.sleep(25);
  }
  return peer;
}

async function listening(protocol: "udp" | "tcp", port: number): Promise<boolean> {
  const ss = Bun.spawn(["ss", protocol === "udp" ? "-Hlun" : "-Hltn", `sport = :${port}`], { stdout: "pipe", stderr: "ignore" });
  const out = await new Response(ss.stdout).text();
  await ss.exited;
  return out.trim().length > 0;
}

/** A scratch folder for a peer's config files; removed by the returned function. */
export function scratchDir(prefix: string): { path: string; write(name: string, text: string, mode?: number): string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `lbctl-${prefix}-`));
  return {
    path,
    write(name, text, mode = 0o644) {
      const file = join(path, name);
      writeFileSync(file, text, { mode });
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
