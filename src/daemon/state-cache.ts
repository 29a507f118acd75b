/**
 * The daemon's view of the kernel table, re-read at most every `ttl_ms` (daemon.state_cache) and dropped after
 * every write, so status requests and event-driven work do not each dump a large table.
 *
 * Beside it, `known()` answers "what does the kernel hold now" without a read: the last table read, with the writes
 * the kernel accepted since applied to it. The health path plans from it, so a failover costs no dump of a large
 * table and still knows each destination's previous weight.
 */

import { formatServiceKey } from "../ipvs/identity.ts";
import { destinationSettings } from "../plan/changes.ts";
import type { IpvsClient, IpvsOperation, KernelDestination, KernelServiceEntry } from "../ipvs/types.ts";

export interface StateCacheSettings {
  enabled: boolean;
  ttl_ms: number;
}

/** Past this many writes since the last read, replaying them costs more than a read: the next `known()` reads. */
const MAX_PENDING_WRITES = 100_000;

/** A virtual service as known: its address and destinations. */
export interface KnownService {
  address: string;
  destinations: KernelDestination[];
}

/** Each virtual service by `PROTO:VIP:PORT`. */
export type KnownTable = ReadonlyMap<string, Readonly<KnownService>>;

export class StateCache {
  #entries: KernelServiceEntry[] | undefined;
  #readAt = 0;
  #settings: StateCacheSettings;
  /** The last table read, whether or not it is still fresh; undefined when writes left it unknown. */
  #lastRead: KernelServiceEntry[] | undefined;
  /** Writes the kernel accepted since `#lastRead`, not yet in `#known`. */
  #pending: IpvsOperation[] = [];
  #known: Map<string, KnownService> | undefined;
  hits = 0;
  misses = 0;

  constructor(
    private readonly client: Pick<IpvsClient, "dump">,
    private readonly now: () => number,
    settings: StateCacheSettings,
  ) {
    this.#settings = settings;
  }

  configure(settings: StateCacheSettings): void {
    this.#settings = settings;
    this.invalidate();
  }

  get(): KernelServiceEntry[] {
    const fresh = this.#entries !== undefined && this.#settings.enabled && this.now() - this.#readAt < this.#settings.ttl_ms;
    if (fresh) {
      this.hits++;
      return this.#entries!;
    }
    this.misses++;
    this.#entries = this.client.dump();
    this.#readAt = this.now();
    this.#lastRead = this.#entries;
    this.#pending = [];
    this.#known = undefined;
    return this.#entries;
  }

  /** The next `get()` reads the kernel. */
  invalidate(): void {
    this.#entries = undefined;
  }

  /** The kernel accepted these operations (in order): `known()` includes them; `get()` reads again. */
  wrote(operations: readonly IpvsOperation[]): void {
    if (operations.length === 0) return;
    this.invalidate();
    if (this.#lastRead === undefined) return;
    if (this.#pending.length + operations.length > MAX_PENDING_WRITES) return this.forget();
    for (const operation of operations) this.#pending.push(operation); // not push(...): a bulk write is 25,000
  }

  /** What the kernel holds is unknown (a rollback failed): the next `get()` and `known()` read it. */
  forget(): void {
    this.invalidate();
    this.#lastRead = undefined;
    this.#pending = [];
    this.#known = undefined;
  }

  /** The kernel's destinations as last read plus the writes since; reads the kernel only when it knows nothing. */
  known(): KnownTable {
    if (this.#lastRead === undefined) this.get();
    if (this.#known === undefined) {
      this.#known = new Map();
      for (const { service, destinations } of this.#lastRead!) {
        if (service.fwmark === 0) this.#known.set(formatServiceKey(service), { address: service.address, destinations: [...destinations] });
      }
    }
    for (const operation of this.#pending) applyWrite(this.#known, operation);
    this.#pending = [];
    return this.#known;
  }
}

function applyWrite(table: Map<string, KnownService>, operation: IpvsOperation): void {
  const id = formatServiceKey(operation.service);
  switch (operation.kind) {
    case "new-service":
      table.set(id, { address: operation.service.address, destinations: [] });
      return;
    case "del-service":
      table.delete(id);
      return;
    case "set-service":
      return;
  }
  const destinations = table.get(id)?.destinations;
  if (!destinations) return;
  const { address, port } = operation.destination;
  const index = destinations.findIndex((d) => d.address === address && d.port === port);
  if (operation.kind === "del-destination") {
    if (index >= 0) destinations.splice(index, 1);
  } else if (operation.kind === "new-destination") {
    // Only the settings: a fresh table's operation carries the desired object itself (plan/fresh-table.ts).
    destinations.push({ ...destinationSettings(operation.destination), activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 });
  } else if (index >= 0) {
    destinations[index] = { ...destinations[index]!, ...destinationSettings(operation.destination) };
  }
}
