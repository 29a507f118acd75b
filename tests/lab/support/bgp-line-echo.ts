/**
 * A backend for the BGP fleet (tests/lab/support/bgp-fleet.ts), run in the backend's namespace:
 *
 *   bun tests/lab/support/bgp-line-echo.ts NAME PORT
 *
 * Greets every connection with its NAME on a line of its own, then echoes each line it receives as "NAME line". It
 * logs, one JSON line on stdout each, every connection it accepts (the peer's address:port, the time), every line
 * received on it and every close: the backend-side connection log that tells which backend held a flow and whether a
 * flow ever reached another one (a new connection accepted for it).
 */

import type { Socket } from "bun";

export type EchoRecord =
  | { event: "listening"; backend: string; at: number }
  | { event: "accept" | "close"; backend: string; peer: string; at: number }
  | { event: "message"; backend: string; peer: string; line: string; at: number };

interface Connection {
  peer: string;
  pending: string;
}

const [name, portText] = process.argv.slice(2);
if (!name || !portText) {
  console.error("usage: bgp-line-echo.ts NAME PORT");
  process.exit(64);
}
const log = (record: EchoRecord) => process.stdout.write(`${JSON.stringify(record)}\n`);

Bun.listen<Connection>({
  hostname: "0.0.0.0",
  port: Number(portText),
  socket: {
    open(socket: Socket<Connection>) {
      socket.data = { peer: `${socket.remoteAddress}:${socket.remotePort}`, pending: "" };
      log({ event: "accept", backend: name, peer: socket.data.peer, at: Date.now() });
      socket.write(`${name}\n`);
    },
    data(socket: Socket<Connection>, chunk: Buffer) {
      const lines = (socket.data.pending + chunk.toString()).split("\n");
      socket.data.pending = lines.pop() ?? "";
      for (const line of lines) {
        socket.write(`${name} ${line}\n`);
        log({ event: "message", backend: name, peer: socket.data.peer, line, at: Date.now() });
      }
    },
    close(socket: Socket<Connection>) {
      if (socket.data) log({ event: "close", backend: name, peer: socket.data.peer, at: Date.now() });
    },
    error() {
      // A health probe's reset: its close is logged.
    },
  },
});
log({ event: "listening", backend: name, at: Date.now() });
