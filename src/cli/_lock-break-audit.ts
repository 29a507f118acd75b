/**
 * The audit record of `lock break --force` (lbctl shell): the daemon writes it when one answers on the control
 * socket, to every log destination it has; without a daemon the shell writes it to stderr itself, in the line
 * format of the daemon's text log, so that the journal of the operator's session still holds it.
 */

import type { LockBreakRequest } from "../daemon/control-api.ts";
import { daemonAnswers, daemonRequest } from "../daemon/control-client.ts";
import { operatorRecord } from "../observability/audit.ts";
import { formatText } from "../observability/logger.ts";
import type { LockInfo } from "../shell/lock.ts";
import { loginActor } from "../system/login-user.ts";
import type { Printer } from "./_config-commit.ts";

export async function auditLockBreak(socket: string, holder: LockInfo, print: Printer, now: () => Date = () => new Date()): Promise<void> {
  const request: LockBreakRequest = { by: loginActor(), holder };
  if (await daemonAnswers(socket)) {
    try {
      const reply = await daemonRequest<{ error?: string }>(socket, "POST", "/v1/audit/lock-break", undefined, request);
      if (reply.status === 200) {
        print.info("The daemon recorded the lock break in its audit log (config_lock_broken).");
        return;
      }
      print.error(`warning: the daemon on ${socket} did not record the lock break (HTTP ${reply.status}: ${reply.body.error ?? "no reason"}); recording it here`);
    } catch (error) {
      print.error(`warning: the daemon on ${socket} did not record the lock break (${(error as Error).message}); recording it here`);
    }
  }
  const record = operatorRecord({ type: "config-lock-broken", ...request });
  const line = formatText({ time: now(), level: record.level, message: record.message, fields: record.fields, audit: record.event });
  (print.audit ?? print.error)(line);
}
