/**
 * Long-lived flows for the BGP fleet (tests/lab/support/bgp-fleet.ts), run in the client's namespace:
 *
 *   bun tests/lab/support/bgp-flow-client.ts ADDRESS PORT FLOWS INTERVAL_MS SOURCE[,SOURCE...]
 *
 * Opens FLOWS TCP connections to ADDRESS:PORT, from the SOURCE addresses in turn (each flow from its own source port;
 * several addresses because `mh` hashes the client's address), reads each one's greeting (the
 * backend's name, from tests/lab/support/bgp-line-echo.ts), then sends a numbered line on every flow each
 * INTERVAL_MS and checks the echo: same backend, same number. Prints JSON lines on stdout: `ready` once every flow
 * has its greeting, `failed` at once when a flow is reset or closed, and a `report` of every flow for each "report"
 * line read on stdin. "stop" closes the flows, reports and exits.
 */

import { connect, type Socket } from "node:net";

export interface FlowReport {
  flow: number;
  /** The client's address:port, the flow's identity in IPVS connection tables and in the backends' logs. */
  client: string;
  /** The backend that greeted it. */
  backend: string;
  sent: number;
  answered: number;
  /** Echoes that came from another backend or for a line not sent: never expected. */
  wrong: number;
  /** The longest wait for an echo, answered or still pending (a stall while the routers moved the flow). */
  maxWaitMs: number;
  /** Why the flow ended before "stop" (reset, closed by the peer); absent while it lives. */
  failure?: string;
}

export type ClientRecord =
  | { event: "ready"; at: number; flows: FlowReport[] }
  | { event: "failed"; at: number; flow: FlowReport }
  | { event: "report"; at: number; flows: FlowReport[] }
  | { event: "error"; at: number; message: string };

interface Flow extends FlowReport {
  pending: string;
  /** Line number → when it was sent. */
  waiting: Map<number, number>;
  next: number;
  stopping: boolean;
}

const [address, portText, countText, intervalText, sourcesText] = process.argv.slice(2);
if (!address || !portText || !countText || !intervalText || !sourcesText) {
  console.error("usage: bgp-flow-client.ts ADDRESS PORT FLOWS INTERVAL_MS SOURCE[,SOURCE...]");
  process.exit(64);
}
const log = (record: ClientRecord) => process.stdout.write(`${JSON.stringify(record)}\n`);

function view(flow: Flow, now: number): FlowReport {
  const oldest = Math.min(...flow.waiting.values());
  const maxWaitMs = Math.max(flow.maxWaitMs, Number.isFinite(oldest) ? now - oldest : 0);
  const { flow: id, client, backend, sent, answered, wrong, failure } = flow;
  return { flow: id, client, backend, sent, answered, wrong, maxWaitMs, ...(failure ? { failure } : {}) };
}

function fail(flow: Flow, why: string): void {
  if (flow.stopping || flow.failure) return;
  flow.failure = why;
  log({ event: "failed", at: Date.now(), flow: view(flow, Date.now()) });
}

function receive(flow: Flow, line: string): void {
  if (flow.backend === "") {
    flow.backend = line;
    return;
  }
  const [backend, number] = line.split(" ");
  const sentAt = flow.waiting.get(Number(number));
  if (backend !== flow.backend || sentAt === undefined) {
    flow.wrong++;
    return;
  }
  flow.waiting.delete(Number(number));
  flow.answered++;
  flow.maxWaitMs = Math.max(flow.maxWaitMs, Date.now() - sentAt);
}

function open(id: number, source: string): Promise<{ flow: Flow; socket: Socket }> {
  const flow: Flow = { flow: id, client: "", backend: "", sent: 0, answered: 0, wrong: 0, maxWaitMs: 0, pending: "", waiting: new Map(), next: 1, stopping: false };
  return new Promise((resolve) => {
    const socket = connect({ host: address!, port: Number(portText), localAddress: source }, () => {
      flow.client = `${socket.localAddress}:${socket.localPort}`;
      resolve({ flow, socket });
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      const lines = (flow.pending + chunk.toString()).split("\n");
      flow.pending = lines.pop() ?? "";
      for (const line of lines) receive(flow, line);
    });
    socket.on("end", () => fail(flow, "closed by the peer"));
    socket.on("error", (error: Error) => {
      fail(flow, `error: ${error.message}`);
      resolve({ flow, socket }); // a flow that never connected is reported failed, not waited for
    });
    socket.on("close", () => fail(flow, "closed"));
  });
}

const sources = sourcesText.split(",");
const connections = await Promise.all(Array.from({ length: Number(countText) }, (_, i) => open(i + 1, sources[i % sources.length]!)));
const flows = connections.map((c) => c.flow);
const deadline = Date.now() + 30_000;
while (flows.some((flow) => flow.backend === "" && !flow.failure)) {
  if (Date.now() > deadline) {
    log({ event: "error", at: Date.now(), message: "no greeting within 30 s on some flows" });
    process.exit(1);
  }
  await Bun.sleep(20);
}
log({ event: "ready", at: Date.now(), flows: flows.map((flow) => view(flow, Date.now())) });

const timer = setInterval(() => {
  for (const { flow, socket } of connections) {
    if (flow.failure) continue;
    const number = flow.next++;
    flow.waiting.set(number, Date.now());
    flow.sent++;
    socket.write(`${number}\n`);
  }
}, Number(intervalText));

for await (const line of console) {
  const command = line.trim();
  if (command === "report" || command === "stop") log({ event: "report", at: Date.now(), flows: flows.map((flow) => view(flow, Date.now())) });
  if (command === "stop") break;
}
clearInterval(timer);
for (const { flow, socket } of connections) {
  flow.stopping = true;
  socket.end();
}
process.exit(0);
