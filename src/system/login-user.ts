/**
 * Who runs this command, for the audit records of the daemon (`lbctl backend`): the login user the kernel keeps
 * for the session (`/proc/self/loginuid`, unchanged by sudo and su), resolved to a name through /etc/passwd, and
 * `SUDO_USER`. The control socket is root-only, so this is what the operator's own session says, not a proof.
 */

import { readFileSync } from "node:fs";

/** The same shape as plan/overrides.ts's OverrideActor (system may not import plan). */
export interface LoginActor {
  user: string;
  login_uid?: number;
  sudo_user?: string;
}

/** The kernel's "no login uid" ((uid_t)-1): a process not started from a login session (a unit, a container). */
const UNSET_LOGIN_UID = 4294967295;

export interface LoginSources {
  readLoginUid(): string | undefined;
  passwd(): string | undefined;
  env: Record<string, string | undefined>;
  /** The process's effective uid. */
  uid(): number | undefined;
}

const realSources: LoginSources = {
  readLoginUid: () => readOrUndefined("/proc/self/loginuid"),
  passwd: () => readOrUndefined("/etc/passwd"),
  env: process.env,
  uid: () => process.geteuid?.(),
};

export function loginActor(sources: LoginSources = realSources): LoginActor {
  const raw = sources.readLoginUid()?.trim();
  const uid = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
  const sudo = sources.env.SUDO_USER?.trim().slice(0, 256);
  const own = sources.uid();
  // os.userInfo() is not used: Bun answers "unknown" there for users it does not look up.
  const actor: LoginActor = { user: own === undefined ? "unknown" : (userName(sources.passwd(), own) ?? `uid ${own}`) };
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
