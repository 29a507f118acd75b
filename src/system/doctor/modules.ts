/**
 * Is a kernel module there? Loaded (/proc/modules, exact name), built in (modules.builtin), or loadable (listed in
 * modules.dep of the running kernel). Pure: the texts are passed in. The Go LibraFlux matched substrings of
 * /proc/modules and so missed built-in modules and confused ip_vs with ip_vs_rr.
 */

export type ModuleState = "loaded" | "builtin" | "available" | "missing";

export interface ModuleFacts {
  /** /proc/modules */
  procModules: string | undefined;
  /** /lib/modules/$(uname -r)/modules.builtin */
  builtin: string | undefined;
  /** /lib/modules/$(uname -r)/modules.dep */
  dep: string | undefined;
}

/** Module names as the kernel spells them (dashes and underscores are the same to modprobe). */
const normalise = (name: string) => name.replaceAll("-", "_");

function namesInPaths(text: string | undefined, firstFieldOnly: boolean): Set<string> {
  const names = new Set<string>();
  for (const line of (text ?? "").split("\n")) {
    const path = firstFieldOnly ? line.split(":")[0]!.trim() : line.trim();
    if (!path) continue;
    const file = path.slice(path.lastIndexOf("/") + 1);
    const name = file.replace(/\.ko(\.(xz|gz|zst))?$/, "");
    if (name !== file) names.add(normalise(name));
  }
  return names;
}

export class ModuleIndex {
  readonly #loaded: Set<string>;
  readonly #builtin: Set<string>;
  readonly #available: Set<string>;
  /** False when modules.dep could not be read: "missing" is then only a guess. */
  readonly knowsFiles: boolean;

  constructor(facts: ModuleFacts) {
    this.#loaded = new Set(
      (facts.procModules ?? "")
        .split("\n")
        .map((line) => line.split(" ")[0] ?? "")
        .filter(Boolean)
        .map(normalise),
    );
    this.#builtin = namesInPaths(facts.builtin, false);
    this.#available = namesInPaths(facts.dep, true);
    this.knowsFiles = facts.dep !== undefined;
  }

  state(module: string): ModuleState {
    const name = normalise(module);
    if (this.#builtin.has(name)) return "builtin";
    if (this.#loaded.has(name)) return "loaded";
    if (this.#available.has(name)) return "available";
    return "missing";
  }
}

export function moduleFacts(read: (path: string) => string | undefined, release: string): ModuleFacts {
  return {
    procModules: read("/proc/modules"),
    builtin: read(`/lib/modules/${release}/modules.builtin`),
    dep: read(`/lib/modules/${release}/modules.dep`),
  };
}
