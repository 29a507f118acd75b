/**
 * A local TCP port that never answers, for timeout tests: a socket listening with a backlog of 0 whose accept queue
 * holds one connection nobody accepts. Linux then drops every further SYN (a "listen overflow"), so a connect to
 * the port hangs exactly as one to a dead host does, deterministically, without root or firewall rules.
 * (An unroutable address such as 10.255.255.1 fails fast with "network unreachable" on hosts without a default
 * route, so it cannot stand for a silent backend.)
 */

import { dlopen, ptr } from "bun:ffi";

const AF_INET = 2;
const SOCK_STREAM = 1;

const libc = dlopen("libc.so.6", {
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  listen: { args: ["i32", "i32"], returns: "i32" },
  getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
}).symbols;

export interface Blackhole {
  port: number;
  /** Closes the listener: connection attempts still retrying get a reset. */
  close(): void;
}

/** On `port`, or on a free port chosen by the kernel. */
export async function blackhole(port = 0): Promise<Blackhole> {
  const fd = libc.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw new Error("socket() failed");
  const address = new Uint8Array(16);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  address.set([127, 0, 0, 1], 4);
  const length = new Uint32Array([16]);
  if (libc.bind(fd, ptr(address), 16) !== 0 || libc.listen(fd, 0) !== 0 || libc.getsockname(fd, ptr(address), ptr(length)) !== 0) {
    libc.close(fd);
    throw new Error("bind/listen on 127.0.0.1 failed");
  }
  const bound = view.getUint16(2, false);
  const filler = await Bun.connect({ hostname: "127.0.0.1", port: bound, socket: { data() {}, open() {}, close() {} } });
  return {
    port: bound,
    close() {
      filler.terminate();
      libc.close(fd);
    },
  };
}

/** Sockets of this network namespace towards 127.0.0.1:`port` in a state of /proc/net/tcp ("02" SYN-SENT, "06" TIME-WAIT). */
export async function socketsTo(port: number, state: string): Promise<number> {
  const table = await Bun.file("/proc/net/tcp").text();
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return table.split("\n").filter((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[2] === remote && fields[3] === state;
  }).length;
}

export function synSentTo(port: number): Promise<number> {
  return socketsTo(port, "02");
}
