/** Serves the control API on a unix socket, mode 0600, refusing to steal the socket of a running daemon. */

import { chmodSync, existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { daemonAnswers } from "./control-client.ts";

export class ControlSocketError extends Error {
  override readonly name = "ControlSocketError";
}

export interface ControlServer {
  readonly path: string;
  stop(): void;
}

export async function serveControl(path: string, handler: (request: Request) => Response | Promise<Response>): Promise<ControlServer> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  if (existsSync(path)) {
    if (await daemonAnswers(path)) throw new ControlSocketError(`Another lbctl daemon answers on ${path}: stop it first`);
    unlinkSync(path); // left behind by a daemon that did not stop cleanly
  }
  // The socket is created with the umask's mode; keep it private from the first moment, not after a chmod.
  const previous = process.umask(0o177);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ unix: path, fetch: handler });
  } catch (error) {
    throw new ControlSocketError(`Cannot listen on ${path}: ${(error as Error).message}`);
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  return {
    path,
    stop() {
      server.stop(true);
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
