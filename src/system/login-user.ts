/**
 * Who runs this command, for the audit records of the daemon (`lbctl backend`): the login user the kernel keeps
 * for the session (`/proc/self/loginuid`, unchanged by sudo and su), resolved to a name through /etc/passwd, and
 * `SUDO_USER`. The control socket is root-only, so this is what the operator's own session says, not a proof.
 */

import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { OverrideActor } from "../plan/overrides.ts";

/** The kernel's "no login uid" ((uid_t)-1): a process not started from a login session (a unit, a container). */
const UNSET_LOGIN_UID = 4294967295;

export interface LoginSources {
  readLoginUid(): string | undefined;
  passwd(): string | undefined;
  env: Record<string, string | undefined>;
  processUser(): string;
}

const realSources: LoginSources = {
  readLoginUid: () => readOrUndefined("/proc/self/loginuid"),
  passwd: () => readOrUndefined("/etc/passwd"),
  env: process.env,
  processUser: () => {
    try {
      return userInfo().username;
    } catch {
      return `uid ${process.getuid?.() ?? "?"}`;
    }
  },
};

export function loginActor(sources: LoginSources = realSources): OverrideActor {
  const raw = sources.readLoginUid()?.trim();
  const uid = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  const sudo = sources.env.SUDO_USER?.trim().slice(0, 256);
  const actor: OverrideActor = { user: sources.processUser() };
  if (uid !== undefined && uid !== UNSET_LOGIN_UID) {
    actor.login_uid = uid;
    actor.user = userName(sources.passwd(), uid) ?? `uid ${uid}`;
  } else if (sudo) {
    actor.user = sudo;
  }
  if (sudo) actor.sudo_user = sudo;
  return actor;
}

/** The name of `uid` in a passwd file's text. */
export function userName(passwd: string | undefined, uid: number): string | undefined {
  for (const line of passwd?.split("\n") ?? []) {
    const fields = line.split(":");
    if (fields.length >= 3 && fields[2] === String(uid) && fields[0]) return fields[0];
  }
  return undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
