/**
 * The configuration lock file, shared by `lbctl shell` and `lbctl edit` (rules: src/shell/lock.ts, docs/shell.md).
 * It lives beside the daemon's control socket (`/run/lbctl/config.lock` by default): a runtime folder, emptied at
 * boot, so no lock survives a reboot.
 */

import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { Config } from "../config/model.ts";
import { describeLock, formatLock, judgeLock, type LockInfo } from "../shell/lock.ts";
import { CliError } from "./errors.ts";

export function lockPath(config: Pick<Config, "main">): string {
  return join(dirname(config.main.daemon.socket), "config.lock");
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? "?"}`;
  }
}

function me(): { host: string; pid: number } {
  return { host: hostname(), pid: process.pid };
}

/** Whether a process of this host runs; EPERM means it runs under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readLockText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`Cannot read the configuration lock ${path}: ${(error as Error).message}`);
  }
}

export interface HeldLock {
  path: string;
  info: LockInfo;
  /** Whether the file still names this process (a `lock break --force` elsewhere removes it). */
  stillMine(): boolean;
  release(): void;
}

/**
 * Takes the lock or throws a CliError naming its holder. A stale lock (its process gone from this host) is taken
 * over, and `notice` says so.
 */
export function acquireLock(path: string, tool: string, notice: (message: string) => void): HeldLock {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const info: LockInfo = { user: currentUser(), ...me(), since: new Date().toISOString(), tool };
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusive(path, formatLock(info))) return held(path, info);
    const verdict = judgeLock(readLockText(path), me(), processAlive);
    if (verdict.state === "mine") return held(path, verdict.info);
    if (verdict.state === "held") throw new CliError(`${describeLock(verdict.info, new Date())}; ask them to exit, or run "lock break --force" in lbctl shell`);
    if (verdict.state === "stale") {
      const was = verdict.info ? ` (was ${verdict.info.user}@${verdict.info.host}, pid ${verdict.info.pid})` : "";
      notice(`Taking over a stale configuration lock: ${verdict.reason}${was}`);
      removeIfPresent(path);
    }
  }
  throw new CliError(`Cannot take the configuration lock ${path}: another session took it at the same moment`);
}

/** `lock break --force`: removes another session's lock and returns what it held. */
export function breakLock(path: string): LockInfo {
  const text = readLockText(path);
  if (text === undefined) throw new CliError("No configuration lock is held");
  const verdict = judgeLock(text, me(), processAlive);
  if (verdict.state === "mine") throw new CliError("This session holds the lock: use abort or exit instead");
  removeIfPresent(path);
  return verdict.state === "free" ? { user: "?", host: "?", pid: 0, since: "?" } : (verdict.info ?? { user: "?", host: "?", pid: 0, since: "?" });
}

function held(path: string, info: LockInfo): HeldLock {
  const stillMine = () => judgeLock(readLockText(path), me(), () => true).state === "mine";
  return {
    path,
    info,
    stillMine,
    release: () => {
      if (stillMine()) removeIfPresent(path);
    },
  };
}

function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new CliError(`Cannot create the configuration lock ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new CliError(`Cannot remove the configuration lock ${path}: ${(error as Error).message}`);
  }
}
