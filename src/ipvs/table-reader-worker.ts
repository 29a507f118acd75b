/**
 * A worker thread's entry point (build.ts compiles it into the binary beside src/cli/main.ts): reads the kernel's
 * IPVS table, without counters, on a netlink socket of its own, and posts it to the thread that started it as one
 * TableReaderReply. A one-shot `lbctl apply` starts it before loading the config, so the dump (one request per
 * service: seconds at 5,000 services in a slow guest) runs on the second CPU while the first parses the YAML.
 * It only reads: whatever goes wrong is posted as an error, and the caller reads the table itself.
 */

import { createIpvsClient } from "./client.ts";
import type { TableReaderReply } from "./table-reader-reply.ts";

function readTable(): TableReaderReply {
  const started = performance.now();
  try {
    const client = createIpvsClient();
    try {
      // JSON crosses threads as one string, and parses faster than a structured clone of 25,000 objects is rebuilt.
      const json = JSON.stringify(client.dump({ stats: false }));
      return { kind: "table", json, readMs: performance.now() - started };
    } finally {
      client.close();
    }
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  }
}

(globalThis as unknown as { postMessage(message: TableReaderReply): void }).postMessage(readTable());
