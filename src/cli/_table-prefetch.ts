/**
 * The kernel table read on a second thread while the config loads (a one-shot `lbctl apply`): the table-reader
 * worker (src/ipvs/table-reader-worker.ts) dumps IPVS while this thread parses and validates the YAML. It only ever
 * saves time: on one CPU it is not started, and when it fails for any reason the caller reads the table itself, as
 * it would without it, which reports the error the way it always has.
 */

import { availableParallelism } from "node:os";
import { type ReadTable, tableOfReply } from "../ipvs/table-reader-reply.ts";

export interface TablePrefetch {
  /** The table the worker read, or why it has none (the caller then reads it itself). */
  table(): Promise<ReadTable | { error: string }>;
  /** Stops the worker (a daemon answered, or the config is invalid): its read is not needed. */
  cancel(): void;
}

/**
 * Where the worker's code is. In the compiled binary every entry point lives in Bun's embedded file system under
 * the entry points' common folder (src/, as build.ts names src/cli/main.ts and the worker); from source, beside us.
 */
function workerLocation(): string {
  if (import.meta.url.startsWith("file:///$bunfs/")) return "/$bunfs/root/ipvs/table-reader-worker.ts";
  return new URL("../ipvs/table-reader-worker.ts", import.meta.url).href;
}

export function prefetchTable(): TablePrefetch | undefined {
  if (availableParallelism() < 2) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(workerLocation());
  } catch {
    return undefined;
  }
  // Until someone waits for the table, the worker must not keep the process alive (an invalid config exits at once).
  worker.unref();
  let settle: (result: ReadTable | { error: string }) => void = () => {};
  const result = new Promise<ReadTable | { error: string }>((resolve) => {
    settle = (value) => {
      resolve(value);
      worker.terminate();
    };
  });
  worker.onmessage = (event: MessageEvent) => {
    try {
      settle(tableOfReply(event.data));
    } catch (error) {
      settle({ error: `the table reader's reply: ${(error as Error).message}` });
    }
  };
  worker.onerror = (event: ErrorEvent) => settle({ error: `the table reader failed: ${event.message}` });
  worker.addEventListener("close", () => settle({ error: "the table reader stopped without a reply" }));
  return {
    table: () => {
      worker.ref();
      return result;
    },
    cancel: () => settle({ error: "cancelled" }),
  };
}
