/**
 * A network namespace of its own per lab test. IPVS keeps one table per network namespace, so a test that programs
 * IPVS inside its own namespace starts from an empty table and cannot see, disturb or be disturbed by another
 * test's services; deleting the namespace deletes the table. Nothing is cleared between tests.
 *
 * Everything IPVS-related then runs inside: ipvsadm and lbctl through `ip netns exec`, an in-process IpvsClient
 * through setns(2) on the JavaScript thread (a netlink socket stays in the namespace it was opened in).
 */

import { afterEach, beforeEach } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, existsSync, openSync, writeFileSync } from "node:fs";
import { createIpvsClient, type IpvsClientOptions } from "../../../src/ipvs/client.ts";
import type { IpvsAdminClient } from "../../../src/ipvs/types.ts";
import { lbctlCommandLine, type Run } from "../../support/run-lbctl.ts";
import { run, type RunOptions, runQuietly } from "./exec.ts";
import { requireLab } from "./guard.ts";

const CLONE_NEWNET = 0x40000000;
/** Namespaces are named lbctl-tN; a test never holds more than a few, so this bound only catches leaks. */
const MAX_NAMESPACES = 500;

function setns(libc: { setns(fd: number, type: number): number }, fd: number): void {
  if (libc.setns(fd, CLONE_NEWNET) !== 0) throw new Error("setns(CLONE_NEWNET) failed: the lab runs tests as root, is this the guest?");
}

export class IpvsNamespace {
  /** The name under /run/netns, for `ip netns exec` and `ip -n`. */
  readonly name: string;
  #destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Creates the namespace with `lo` up and forwarding on (it is the director of any LabNetwork built on it). The
   * ip_vs module is loaded already; the kernel gives each new namespace its own empty table and default settings.
   */
  static create(): IpvsNamespace {
    let index = 1;
    while (existsSync(`/run/netns/lbctl-t${index}`)) {
      if (++index > MAX_NAMESPACES) throw new Error(`${MAX_NAMESPACES} test namespaces exist: tests are not destroying theirs`);
    }
    const namespace = new IpvsNamespace(`lbctl-t${index}`);
    run(["ip", "netns", "add", namespace.name]);
    try {
      run(["ip", "-n", namespace.name, "link", "set", "lo", "up"]);
      // /proc/sys/net shows the sysctls of the namespace of whoever opens it: no process needed.
      namespace.enter(() => {
        writeFileSync("/proc/sys/net/ipv4/ip_forward", "1\n");
        writeFileSync("/proc/sys/net/ipv6/conf/all/forwarding", "1\n");
      });
    } catch (error) {
      namespace.destroy();
      throw error;
    }
    return namespace;
  }

  /** `argv` prefixed to run inside the namespace. */
  command(argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...argv];
  }

  /** Runs a command inside the namespace and returns its stdout (throws CommandError on failure). */
  exec(argv: readonly string[], options?: RunOptions): string {
    return run(this.command(argv), options);
  }

  /** ipvsadm on this namespace's table; returns stdout, throws CommandError on failure. */
  ipvsadm(args: readonly string[], options?: RunOptions): string {
    return this.exec(["ipvsadm", ...args], options);
  }

  /** This namespace's table as `ipvsadm -Sn` prints it, one trimmed rule per line, sorted: the oracle. */
  ipvsadmSave(): string[] {
    return this.ipvsadm(["-S", "-n"])
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .sort();
  }

  /** The lbctl command line (the built binary under LBCTL_BIN) inside the namespace. */
  lbctlCommand(args: readonly string[] = []): string[] {
    return this.command([...lbctlCommandLine(), ...args]);
  }

  /** Runs lbctl inside the namespace, as tests/support/run-lbctl.ts does on the host. */
  async lbctl(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
    const { LBCTL_CONFIG: _ignored, ...inherited } = process.env;
    const proc = Bun.spawn(this.lbctlCommand(args), { env: { ...inherited, NO_COLOR: "1", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { exitCode, stdout, stderr };
  }

  /**
   * Runs `body` with this thread inside the namespace, then returns to where it was. Synchronous only: what
   * `body` opens (sockets) stays in the namespace; nothing may await in between.
   */
  enter<T>(body: () => T): T {
    const libc = dlopen("libc.so.6", { setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
    const home = openSync("/proc/thread-self/ns/net", "r");
    const target = openSync(`/run/netns/${this.name}`, "r");
    try {
      setns(libc.symbols, target);
      try {
        return body();
      } finally {
        setns(libc.symbols, home);
      }
    } finally {
      closeSync(target);
      closeSync(home);
      libc.close();
    }
  }

  /** An IpvsClient whose netlink socket is opened inside the namespace (and stays there). Close it before destroy. */
  ipvsClient(options?: IpvsClientOptions): IpvsAdminClient {
    return this.enter(() => {
      const client = createIpvsClient(undefined, options);
      client.info(); // opens and connects the socket now, while inside
      return client;
    });
  }

  /** Kills every process inside, then deletes the namespace, its devices and its IPVS table. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const pids = Bun.spawnSync(["ip", "netns", "pids", this.name], { stderr: "ignore" }).stdout.toString();
    for (const pid of pids.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    runQuietly(["ip", "netns", "delete", this.name]);
  }
}

/**
 * Registers, for every test of the file, a fresh namespace before it and its removal after it; read `current()`
 * inside a test. Also checks that the file runs in the lab.
 */
export function ipvsNamespacePerTest(): { current(): IpvsNamespace } {
  let namespace: IpvsNamespace | undefined;
  beforeEach(() => {
    requireLab();
    namespace = IpvsNamespace.create();
  });
  afterEach(() => {
    namespace?.destroy();
    namespace = undefined;
  });
  return {
    current() {
      if (!namespace) throw new Error("No test namespace: current() is only valid inside a test");
      return namespace;
    },
  };
}
