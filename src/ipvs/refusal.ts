/** Turns a kernel errno into the explanation an operator can act on, given what was being done. */

import { errnoName } from "./errors.ts";

export interface RefusalContext {
  /** What the request was about, as the operator would say it: "service", "destination", "sync daemon", ... */
  subject: string;
  /** Set for service writes: ENOENT then means a scheduler or persistence-engine module is missing. */
  scheduler?: string;
  persistenceEngine?: string;
}

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const ENOMEM = 12;
const EACCES = 13;
const EBUSY = 16;
const EEXIST = 17;
const ENODEV = 19;
const EINVAL = 22;
const ERANGE = 34;
const EOPNOTSUPP = 95;
const EAFNOSUPPORT = 97;

export function explainRefusal(errno: number, context: RefusalContext): string {
  switch (errno) {
    case EPERM:
    case EACCES:
      return "need root (CAP_NET_ADMIN)";
    case ENOENT:
      if (context.scheduler !== undefined) return missingModules(context.scheduler, context.persistenceEngine ?? "");
      return `no such ${context.subject}`;
    case ESRCH:
      return "no such service";
    case EEXIST:
      return `${context.subject} already exists`;
    case EINVAL:
      return "the settings are invalid"; // the message already starts "Kernel refused ..."
    case ERANGE:
      return "weight or connection thresholds out of range";
    case EAFNOSUPPORT:
      return "IPv6 support is missing: the kernel was built without CONFIG_IP_VS_IPV6";
    case ENOMEM:
      return "kernel is out of memory";
    case EBUSY:
      return "kernel is busy with another request on this socket";
    case ENODEV:
      return "no such network interface";
    case EOPNOTSUPP:
      return "not supported by this kernel";
    default:
      return `kernel error ${errnoName(errno)}`;
  }
}

/** Some kernels do not build every module (Debian 12 has no ip_vs_twos), so loading one is not always possible. */
function missingModules(scheduler: string, persistenceEngine: string): string {
  if (persistenceEngine === "") {
    return `scheduler '${scheduler}' is not available: load kernel module ip_vs_${scheduler} (this kernel may not ship it)`;
  }
  return (
    `scheduler '${scheduler}' or persistence engine '${persistenceEngine}' is not available: ` +
    `load kernel modules ip_vs_${scheduler} and ip_vs_pe_${persistenceEngine} (this kernel may not ship them)`
  );
}
