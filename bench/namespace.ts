/**
 * A fresh network namespace for each timed programming of IPVS in the kernel benches (P1, P7), so that every tool
 * measured starts from the same kernel state: an empty table, and an empty trash of deleted destinations.
 *
 * Why: the kernel keeps every deleted destination in a per-namespace trash list for two to four minutes
 * (IP_VS_DEST_TRASH_PERIOD, so that a destination added back keeps its counters), and every NEW_DEST scans that
 * whole list first (ip_vs_trash_get_dest in net/netfilter/ipvs/ip_vs_ctl.c). After `ipvsadm -C` of 20,000
 * destinations, the next 20,000 additions each scan up to 20,000 entries, more after several clears: programming
 * the same table took from 3.5 s to 37 s in one guest run depending on how many clears came shortly before it,
 * whichever tool did it. Clearing one shared table between the tools thus measured the trash, and always against
 * the tool that ran second. A new namespace has its own empty trash.
 *
 * A namespace is flushed (`ipvsadm -C`, synchronous) when its measurement is done, which stops its estimators, and
 * deleted by `close`: a deleted namespace's table would otherwise be torn down by a kernel worker in the background,
 * during the next measurement.
 */

import { existsSync, readFileSync } from "node:fs";

export class BenchNamespace {
  readonly name: string;
  readonly path: string;

  private constructor(name: string) {
    this.name = name;
    this.path = `/run/netns/${name}`;
  }

  static create(label: string): BenchNamespace {
    let index = 1;
    while (existsSync(`/run/netns/lbctl-b${index}-${label}`)) index++;
    const namespace = new BenchNamespace(`lbctl-b${index}-${label}`);
    namespace.#run(["ip", "netns", "add", namespace.name]);
    namespace.#run(["ip", "-n", namespace.name, "link", "set", "lo", "up"]);
    return namespace;
  }

  /** `command` run inside the namespace (nsenter only switches the network namespace, then execs the command). */
  command(command: string[]): string[] {
    return ["nsenter", `--net=${this.path}`, ...command];
  }

  /** The namespace's IPVS table as `ipvsadm -Sn` prints it, sorted. */
  table(): string {
    return this.#run(this.command(["ipvsadm", "-Sn"])).trim().split("\n").sort().join("\n");
  }

  /** Empties the table (synchronously): the namespace's estimators stop; its trash is freed on close. */
  flush(): void {
    this.#run(this.command(["ipvsadm", "-C"]));
  }

  close(): void {
    this.flush();
    this.#run(["ip", "netns", "del", this.name]);
  }

  #run(command: string[]): string {
    const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`${command.join(" ")} exited ${result.exitCode}: ${result.stderr.toString().trim()}`);
    return result.stdout.toString();
  }
}

/** Destinations in the table of the namespace `pid` is in, read as any outside observer would (/proc/PID/net/ip_vs). */
export function destinationsOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/net/ip_vs`, "utf8");
  let count = 0;
  for (let i = text.indexOf("  -> "); i !== -1; i = text.indexOf("  -> ", i + 5)) if (!text.startsWith("  -> RemoteAddress", i)) count++;
  return count;
}
