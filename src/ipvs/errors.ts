/**
 * Errors of the IPVS layer. Each has a stable `code` for programs and a message written for the operator who has to
 * act on it (capitalised, no trailing period).
 */

export type IpvsErrorCode =
  | "E_NETLINK"
  | "E_LIBRARY_MISSING"
  | "E_IPVS_UNAVAILABLE"
  | "E_TRANSPORT"
  | "E_DECODE"
  | "E_ENCODE";

export class IpvsError extends Error {
  readonly code: IpvsErrorCode;

  constructor(code: IpvsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The kernel refused a request: `errno` is positive (EEXIST = 17), `operation` names what was asked. */
export class NetlinkError extends IpvsError {
  readonly errno: number;
  readonly errnoName: string;
  readonly operation: string;
  /** The explanation alone, without the operation: "scheduler 'mh' is not available: load kernel module ip_vs_mh". */
  readonly reason: string;

  constructor(errno: number, operation: string, reason: string) {
    super("E_NETLINK", `Kernel refused ${operation}: ${reason}`);
    this.errno = errno;
    this.errnoName = errnoName(errno);
    this.operation = operation;
    this.reason = reason;
  }
}

export class LibraryMissingError extends IpvsError {
  readonly library: string;

  constructor(library: string, cause?: unknown) {
    super(
      "E_LIBRARY_MISSING",
      `Library ${library} is not installed: install package libnl-genl-3-200 (Debian/Ubuntu) or libnl3 (RHEL/Alma)`,
      { cause },
    );
    this.library = library;
  }
}

export class IpvsUnavailableError extends IpvsError {
  constructor() {
    super(
      "E_IPVS_UNAVAILABLE",
      "The IPVS generic netlink family is missing: load the ip_vs kernel module (modprobe ip_vs)",
    );
  }
}

/** The netlink socket itself failed (not a refusal of one request); `libnlCode` is libnl's positive NLE_* number. */
export class TransportError extends IpvsError {
  readonly libnlCode: number;

  constructor(message: string, libnlCode = 0) {
    super("E_TRANSPORT", message);
    this.libnlCode = libnlCode;
  }
}

/** Bytes from the kernel do not parse: a truncated attribute, a length that runs past its container, and so on. */
export class NetlinkDecodeError extends IpvsError {
  constructor(message: string) {
    super("E_DECODE", `Malformed netlink reply: ${message}`);
  }
}

/** A request cannot be encoded, e.g. an address that is not valid for the service's family. */
export class EncodeError extends IpvsError {
  constructor(message: string) {
    super("E_ENCODE", message);
  }
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  12: "ENOMEM",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  34: "ERANGE",
  90: "EMSGSIZE",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  105: "ENOBUFS",
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
