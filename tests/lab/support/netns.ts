import { existsSync } from "node:fs";
import { run, type RunOptions, runQuietly } from "./exec.ts";

/** A network namespace wired to the director (the guest's root namespace) by its own veth pair. */
export interface LabNamespace {
  /** The netns name; servers started by servers.ts answer with it. */
  readonly name: string;
  /** The namespace's address on its link (its eth0). */
  readonly address: string;
  /** The director's address on the same link: the namespace's default route. */
  readonly gateway: string;
}

export interface LabNetworkOptions {
  /** How many backend namespaces to create (at least 1). */
  backends: number;
  /**
   * The namespace that directs (holds the VIPs, forwards, runs IPVS): a test's own IpvsNamespace. Without one the
   * guest's root namespace directs, whose IPVS table every such test shares.
   */
  director?: { readonly name: string };
  /** Root-namespace director only: clear the IPVS table on destroy (default true). */
  clearIpvsOnDestroy?: boolean;
}

/** Networks are numbered 1-199: subnets 10.N.0.0/16, so VIPs in 10.200.0.0/16 and above never collide. */
const MAX_NETWORKS = 199;

function isNetworkIndexFree(index: number): boolean {
  return !existsSync(`/run/netns/lab${index}-client`) && !existsSync(`/sys/class/net/lab${index}vip`);
}

function allocateIndex(): number {
  for (let index = 1; index <= MAX_NETWORKS; index++) if (isNetworkIndexFree(index)) return index;
  throw new Error(`All ${MAX_NETWORKS} lab network slots are in use: tests are not destroying their networks`);
}

/** Runs `ip -batch -` (inside `namespace` if given): one process for many changes, which matters when emulated. */
function ipBatch(commands: string[], namespace?: string): void {
  run(["ip", ...(namespace ? ["-n", namespace] : []), "-batch", "-"], { input: `${commands.join("\n")}\n` });
}

/**
 * A client namespace and N backend namespaces, each on its own /24 to the director, with default routes via the
 * director (so IPVS NAT replies come back through it), plus a dummy device for the director's VIPs. Names and
 * subnets are unique among live networks, so tests can run one after another in one guest. Call destroy().
 *
 *   client  10.N.0.2/24 --- 10.N.0.1  director (ip_forward=1, VIPs on labNvip)
 *   backend j (1-based) 10.N.j.2/24 --- 10.N.j.1
 */
export class LabNetwork {
  readonly index: number;
  readonly client: LabNamespace;
  readonly backends: readonly LabNamespace[];
  /** The director's dummy device that holds VIPs. */
  readonly vipDevice: string;
  readonly #clearIpvsOnDestroy: boolean;
  /** The director's netns name; undefined for the guest's root namespace. */
  readonly #director: string | undefined;
  /** Director-side veth of each namespace, by namespace name. */
  readonly #directorLinks = new Map<string, string>();
  #destroyed = false;

  private constructor(index: number, backendCount: number, clearIpvsOnDestroy: boolean, director: string | undefined) {
    this.index = index;
    this.vipDevice = `lab${index}vip`;
    this.client = this.#namespace(0, `lab${index}-client`, `lab${index}c`);
    this.backends = Array.from({ length: backendCount }, (_, offset) =>
      this.#namespace(offset + 1, `lab${index}-be${offset + 1}`, `lab${index}b${offset + 1}`),
    );
    this.#clearIpvsOnDestroy = clearIpvsOnDestroy && director === undefined;
    this.#director = director;
  }

  /** `directorLink` stays short: interface names are limited to 15 characters. */
  #namespace(link: number, name: string, directorLink: string): LabNamespace {
    this.#directorLinks.set(name, directorLink);
    return { name, address: `10.${this.index}.${link}.2`, gateway: `10.${this.index}.${link}.1` };
  }

  static create(options: LabNetworkOptions): LabNetwork {
    if (!Number.isInteger(options.backends) || options.backends < 1 || options.backends > 250) {
      throw new RangeError(`backends must be an integer from 1 to 250, not ${options.backends}`);
    }
    const network = new LabNetwork(allocateIndex(), options.backends, options.clearIpvsOnDestroy ?? true, options.director?.name);
    try {
      network.#build();
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  #build(): void {
    const namespaces = [this.client, ...this.backends];
    ipBatch(namespaces.map((namespace) => `netns add ${namespace.name}`));
    const director = [`link add ${this.vipDevice} type dummy`, `link set ${this.vipDevice} up`];
    for (const namespace of namespaces) {
      const link = this.#directorLinks.get(namespace.name)!;
      director.push(
        `link add ${link} type veth peer name eth0 netns ${namespace.name}`,
        `address add ${namespace.gateway}/24 dev ${link}`,
        `link set ${link} up`,
      );
    }
    ipBatch(director, this.#director);
    for (const namespace of namespaces) {
      ipBatch(
        [
          "link set lo up",
          `address add ${namespace.address}/24 dev eth0`,
          "link set eth0 up",
          `route add default via ${namespace.gateway}`,
        ],
        namespace.name,
      );
    }
  }

  /** Gives the director an address (e.g. a VIP: `addDirectorAddress("10.200.0.1")`), removed on destroy. */
  addDirectorAddress(address: string): void {
    const cidr = address.includes("/") ? address : `${address}/${address.includes(":") ? 128 : 32}`;
    run(["ip", ...this.#onDirector(), "address", "add", cidr, "dev", this.vipDevice]);
  }

  /** Removes an address that addDirectorAddress (or the test) put on the VIP device. */
  removeDirectorAddress(address: string): void {
    const cidr = address.includes("/") ? address : `${address}/${address.includes(":") ? 128 : 32}`;
    run(["ip", ...this.#onDirector(), "address", "del", cidr, "dev", this.vipDevice]);
  }

  /** `ip` arguments that address the director's namespace. */
  #onDirector(): string[] {
    return this.#director === undefined ? [] : ["-n", this.#director];
  }

  /** Runs a command inside the namespace and returns its stdout (throws CommandError on failure). */
  exec(namespace: LabNamespace, argv: string[], options?: RunOptions): string {
    return run(["ip", "netns", "exec", namespace.name, ...argv], options);
  }

  /**
   * Stops every process inside the namespaces, deletes them (which deletes their veth pairs), the VIP device and,
   * unless told otherwise, every IPVS service. Safe to call twice.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const namespace of [this.client, ...this.backends]) {
      const pids = Bun.spawnSync(["ip", "netns", "pids", namespace.name], { stderr: "ignore" }).stdout.toString();
      for (const pid of pids.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      runQuietly(["ip", "netns", "delete", namespace.name]);
    }
    runQuietly(["ip", ...this.#onDirector(), "link", "delete", this.vipDevice]);
    if (this.#clearIpvsOnDestroy) runQuietly(["ipvsadm", "-C"]);
  }
}

/** Creates a lab network; see LabNetwork. */
export function createLabNetwork(options: LabNetworkOptions): LabNetwork {
  return LabNetwork.create(options);
}
