/**
 * TCP check: the backend is healthy when a TCP connection to address:port completes before the probe's signal
 * aborts. The connection is then closed with a reset, so the prober keeps no TIME_WAIT socket per probe (10,000
 * targets at 1 s would hold 600,000, past the kernel's table) and the backend's accept loop sees it close at once.
 *
 * Two probers keep that contract: the native one (_tcp-native.ts: libc's non-blocking connect and epoll through
 * bun:ffi, the syscalls keepalived makes, about two thirds of Bun.connect's CPU a probe on the host) and
 * Bun.connect (_tcp-bun.ts). The native one is used wherever libc can be bound; otherwise the check falls back to
 * Bun.connect and says so once.
 */

import { bindTcpSyscalls, type TcpSyscalls } from "../../ipvs/transport/native.ts";
import type { Checker } from "../types.ts";
import { createBunTcpChecker } from "./_tcp-bun.ts";
import { NativeTcpProber } from "./_tcp-native.ts";

export type TcpEngine = "native" | "bun";

export interface TcpChecker extends Checker {
  /** Which prober runs the probes of IP-literal targets. */
  readonly engine: TcpEngine;
  /** Bun.connect attempts that outlived their probe and still wait for the kernel (always 0 for the native prober). */
  strayConnectionAttempts(): number;
}

export interface TcpCheckerOptions {
  /** The libc binding; throws when it cannot be made (the default binds libc.so.6). */
  syscalls?: () => TcpSyscalls;
  /** `"bun"` forces the Bun.connect prober (tests, the benchmark's comparison). Default: native when available. */
  engine?: TcpEngine;
  /** Told once when the native prober is unavailable. Default: a process warning (stderr, so the daemon's log). */
  warn?: (message: string) => void;
}

/** A TCP checker with its own prober state (epoll set, silent endpoints): each monitor creates one (checks/index.ts). */
export function createTcpChecker(options: TcpCheckerOptions = {}): TcpChecker {
  const bun = createBunTcpChecker();
  const native = options.engine === "bun" ? undefined : nativeProber(options, bun);
  if (native === undefined) return { type: "tcp", engine: "bun", probe: bun.probe, strayConnectionAttempts: bun.strayConnectionAttempts };
  return {
    type: "tcp",
    engine: "native",
    probe: (target, signal) => native.probe(target, signal),
    strayConnectionAttempts: bun.strayConnectionAttempts,
  };
}

function nativeProber(options: TcpCheckerOptions, bun: Checker): NativeTcpProber | undefined {
  try {
    return new NativeTcpProber((options.syscalls ?? bindTcpSyscalls)(), bun);
  } catch (error) {
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    warn(`TCP health checks fall back to Bun.connect (more CPU per probe): the native prober is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
