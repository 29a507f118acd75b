/**
 * systemd's readiness protocol (sd_notify): one datagram to $NOTIFY_SOCKET. Sent from this process itself through
 * libc (no helper process, whose message systemd may not attribute to the service), so `Type=notify` is reliable.
 */

import { bindLibc } from "../ipvs/transport/native.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SUN_PATH_MAX = 108;

/** Sends `state` (e.g. "READY=1") when running under systemd; false when there is no NOTIFY_SOCKET or sending failed. */
export function sdNotify(state: string, socketPath: string | undefined = process.env.NOTIFY_SOCKET): boolean {
  if (!socketPath) return false;
  const address = sockaddrUn(socketPath);
  if (!address) return false;
  const libc = bindLibc();
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const message = new TextEncoder().encode(state);
    return Number(libc.sendto(fd, message, message.length, 0, address, address.length)) === message.length;
  } finally {
    libc.close(fd);
  }
}

/** struct sockaddr_un for a path, or an abstract name (leading "@" becomes a NUL byte). */
export function sockaddrUn(path: string): Uint8Array | undefined {
  const name = new TextEncoder().encode(path);
  if (name.length === 0 || name.length >= SUN_PATH_MAX) return undefined;
  const address = new Uint8Array(2 + name.length + (path.startsWith("@") ? 0 : 1));
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(name, 2);
  if (path.startsWith("@")) address[2] = 0;
  return address;
}
