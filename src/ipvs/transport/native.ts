/**
 * Every native function lbctl calls, bound through bun:ffi in this one module: libnl (netlink sockets for IPVS and
 * for local addresses) and the few libc calls beside it (freeing libnl's buffers, socket options, systemd's
 * notification datagram). Libraries are opened by soname, which also works from a `bun build --compile` binary.
 *
 * Nothing is bound at import: each owner binds when it first needs a library and keeps the binding (a transport, an
 * address reader, one sd_notify call), so a host without libnl pays nothing until it talks to the kernel and then
 * gets LibraryMissingError. Binding libnl took 2.6 ms the first time and 0.2 ms after (measured on the dev host);
 * it happens a few times per process.
 */

import { dlopen } from "bun:ffi";
import { LibraryMissingError } from "../errors.ts";

const LIBNL = "libnl-3.so.200";
const LIBNL_GENL = "libnl-genl-3.so.200";
const LIBC = "libc.so.6";

export type Libnl = ReturnType<typeof bindLibnl>;
export type Libc = ReturnType<typeof bindLibc>;
export type TcpSyscalls = ReturnType<typeof bindTcpSyscalls>;

/** libnl-3 and libnl-genl-3, with the libc calls their users need; throws LibraryMissingError naming the library. */
export function bindLibnl() {
  const nl = open(LIBNL, () =>
    dlopen(LIBNL, {
      nl_socket_alloc: { args: [], returns: "ptr" },
      nl_socket_free: { args: ["ptr"], returns: "void" },
      nl_connect: { args: ["ptr", "i32"], returns: "i32" },
      nl_socket_get_local_port: { args: ["ptr"], returns: "u32" },
      nl_socket_get_fd: { args: ["ptr"], returns: "i32" },
      nl_socket_set_buffer_size: { args: ["ptr", "i32", "i32"], returns: "i32" },
      nl_socket_set_msg_buf_size: { args: ["ptr", "usize"], returns: "i32" },
      nl_socket_disable_msg_peek: { args: ["ptr"], returns: "void" },
      nl_sendto: { args: ["ptr", "ptr", "usize"], returns: "i32" },
      nl_recv: { args: ["ptr", "ptr", "ptr", "ptr"], returns: "i32" },
      nl_geterror: { args: ["i32"], returns: "cstring" },
    }),
  );
  const genl = open(LIBNL_GENL, () =>
    dlopen(LIBNL_GENL, {
      genl_connect: { args: ["ptr"], returns: "i32" },
      genl_ctrl_resolve: { args: ["ptr", "ptr"], returns: "i32" },
    }),
  );
  const libc = open(LIBC, () =>
    dlopen(LIBC, {
      free: { args: ["ptr"], returns: "void" },
      setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
      recvmmsg: { args: ["i32", "ptr", "u32", "i32", "ptr"], returns: "i32" },
      __errno_location: { args: [], returns: "ptr" },
    }),
  );
  return { nl: nl.symbols, genl: genl.symbols, libc: libc.symbols };
}

/** The libc socket calls of sd_notify (a datagram on a unix socket). */
export function bindLibc() {
  return open(LIBC, () =>
    dlopen(LIBC, {
      socket: { args: ["i32", "i32", "i32"], returns: "i32" },
      sendto: { args: ["i32", "ptr", "usize", "i32", "ptr", "u32"], returns: "i64" },
      close: { args: ["i32"], returns: "i32" },
    }),
  ).symbols;
}

/**
 * The libc calls of the TCP health check's native prober (src/health/checks/_tcp-native.ts): non-blocking connects
 * watched with epoll, the syscalls keepalived's TCP_CHECK makes. Pointers are passed as typed arrays.
 */
export function bindTcpSyscalls() {
  return open(LIBC, () =>
    dlopen(LIBC, {
      socket: { args: ["i32", "i32", "i32"], returns: "i32" },
      connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
      getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
      setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
      close: { args: ["i32"], returns: "i32" },
      epoll_create1: { args: ["i32"], returns: "i32" },
      epoll_ctl: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
      epoll_wait: { args: ["i32", "ptr", "i32", "i32"], returns: "i32" },
      __errno_location: { args: [], returns: "ptr" },
    }),
  ).symbols;
}

function open<T>(library: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw new LibraryMissingError(library.replace(/\.so\..*$/, ""), error);
  }
}
