/** Names of IPVS writes for messages, and the NetlinkError a refusal of one becomes. */

import { EncodeError, IpvsError, NetlinkError } from "./errors.ts";
import { formatDestinationKey, formatServiceKey } from "./identity.ts";
import { type RefusalContext, explainRefusal } from "./refusal.ts";
import type { IpvsOperation } from "./types.ts";

const VERBS: Readonly<Record<IpvsOperation["kind"], string>> = {
  "new-service": "create-service",
  "set-service": "update-service",
  "del-service": "delete-service",
  "new-destination": "create-destination",
  "set-destination": "update-destination",
  "del-destination": "delete-destination",
};

/** e.g. "create-service tcp:192.0.2.10:80", "delete-destination 10.0.0.10:80 of tcp:192.0.2.10:80". */
export function describeOperation(operation: IpvsOperation): string {
  const verb = VERBS[operation.kind];
  const service = formatServiceKey(operation.service);
  if ("destination" in operation) return `${verb} ${formatDestinationKey(operation.destination)} of ${service}`;
  return `${verb} ${service}`;
}

export function operationRefused(operation: IpvsOperation, errno: number): NetlinkError {
  return new NetlinkError(errno, describeOperation(operation), explainRefusal(errno, refusalContext(operation)));
}

function refusalContext(operation: IpvsOperation): RefusalContext {
  switch (operation.kind) {
    case "new-service":
    case "set-service":
      return {
        subject: "service",
        scheduler: operation.service.scheduler,
        persistenceEngine: operation.service.persistenceEngine,
      };
    case "del-service":
      return { subject: "service" };
    default:
      return { subject: "destination" };
  }
}

/** A batch item that never got a verdict: unencodable (named after its operation) or lost with the socket. */
export function operationFailed(operation: IpvsOperation, error: unknown): Error {
  if (error instanceof EncodeError) {
    const reason = error.message.charAt(0).toLowerCase() + error.message.slice(1);
    return new EncodeError(`Invalid ${describeOperation(operation)}: ${reason}`);
  }
  if (error instanceof IpvsError) return error;
  return new IpvsError("E_TRANSPORT", `No verdict for ${describeOperation(operation)}: ${String(error)}`, {
    cause: error,
  });
}
