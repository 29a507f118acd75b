/**
 * The libnl and libc functions the transport calls, bound through bun:ffi by soname. Loading is deferred to the first
 * socket so that importing lbctl on a host without libnl costs nothing, and fails there with LibraryMissingError.
 */

import { dlopen } from "bun:ffi";
import { LibraryMissingError } from "../errors.ts";

const LIBNL = "libnl-3.so.200";
const LIBNL_GENL = "libnl-genl-3.so.200";
const LIBC = "libc.so.6";

export type Libnl = ReturnType<typeof bindLibraries>;

let bound: Libnl | undefined;

export function loadLibnl(): Libnl {
  bound ??= bindLibraries();
  return bound;
}

function bindLibraries() {
  const open = <T>(library: string, load: () => T): T => {
    try {
      return load();
    } catch (error) {
      throw new LibraryMissingError(library.replace(/\.so\..*$/, ""), error);
    }
  };
  const nl = open(LIBNL, () =>
    dlopen(LIBNL, {
      nl_socket_alloc: { args: [], returns: "ptr" },
      nl_socket_free: { args: ["ptr"], returns: "void" },
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
    }),
  );
  return { nl: nl.symbols, genl: genl.symbols, libc: libc.symbols };
}

