/**
 * The informer against the fake API server: the periodic re-list repairs a change its watch never announced, and an
 * unreachable server or a watch that ends at once is retried with back-off, never in a tight loop.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { KubeClient } from "../../src/k8s/client.ts";
import { Informer } from "../../src/k8s/informer.ts";
import type { Node } from "../../src/k8s/types.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";

let server: FakeApiServer;

beforeAll(() => {
  server = new FakeApiServer({ bookmarkMs: 200 }).start();
  server.put("nodes", { metadata: { name: "n1" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.1" }] } });
});
afterAll(() => server.stop());

function informer(resyncMs: number, connected: boolean[] = []) {
  const client = new KubeClient({ server: server.url, ca: server.pki.ca, token: server.token });
  const i = new Informer<Node>(client, "/api/v1/nodes", { onChange: () => {}, onConnected: (c) => void connected.push(c), resyncMs, watchTimeoutSeconds: 30 });
  i.start();
  return i;
}

async function until(what: string, probe: () => unknown, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

test("a change the watch never announced is repaired by the next re-list (resync)", async () => {
  const i = informer(2000);
  try {
    await until("listed", () => i.synced && i.store.has("/n1"));
    const lists = i.lists;
    server.loseEvents = true;
    server.put("nodes", { metadata: { name: "lost" }, status: { addresses: [{ type: "InternalIP", address: "10.0.0.9" }] } });
    server.loseEvents = false;
    await Bun.sleep(300);
    // The watch is alive (bookmarks flow) and yet it did not see the node.
    expect(i.store.has("/lost")).toBe(false);
    await until("the resync found it", () => i.store.has("/lost"), 6000);
    expect(i.lists).toBe(lists + 1);
  } finally {
    await i.stop();
    server.remove("nodes", undefined, "lost");
  }
});

test("an unreachable API server is retried with back-off, not in a tight loop", async () => {
  const connected: boolean[] = [];
  const i = informer(60_000, connected);
  try {
    await until("listed", () => i.synced);
    server.down = true;
    server.cutWatches();
    const mark = server.requests.length;
    await until("failure seen", () => connected.includes(false));
    await Bun.sleep(3000);
    const attempts = server.requests.slice(mark).length;
    console.log(`BENCH k8s-informer-attempts-in-3s-down n=${attempts}`);
    // Back-off from 0.5 s doubling: a handful of attempts in 3 s (a tight loop would make thousands).
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThan(10);
  } finally {
    server.down = false;
    await i.stop();
  }
});
