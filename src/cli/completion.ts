/**
 * `lbctl completion bash|zsh|fish`: a completion script for the ordinary shell. The scripts ask the binary itself
 * (`lbctl __complete WORDS...`, hidden) for the candidates, so commands, flags, and service and backend names read
 * from the config are always those of the installed version; `--config` completes file paths in the shell.
 */

import type { ArgDef, CommandDef } from "citty";
import { loadConfig } from "../config/load.ts";
import { configPath, DEFAULT_CONFIG_PATH, lbctlCommand } from "./common.ts";
import { UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

export default lbctlCommand({
  meta: { name: "completion", description: "Print a completion script for bash, zsh or fish" },
  args: {
    shell: { type: "positional", required: true, description: "bash, zsh or fish", valueHint: SHELLS.join("|") },
  },
  run({ args }) {
    const shell = String(args.shell);
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`No completion for "${shell}": choose bash, zsh or fish`);
    process.stdout.write(SCRIPTS[shell as (typeof SHELLS)[number]]);
    return ExitCode.ok;
  },
});

/** `lbctl __complete WORD... PARTIAL`: the candidates for PARTIAL, one a line (hidden: for the scripts). */
export const completeCommand = {
  meta: { name: "__complete", description: "Completion candidates (used by the completion scripts)", hidden: true },
  async run({ rawArgs, data }: { rawArgs: string[]; data?: { root?: CommandDef } }) {
    const root = data?.root;
    if (!root) return ExitCode.failed;
    const words = rawArgs[0] === "--" ? rawArgs.slice(1) : rawArgs;
    for (const candidate of await candidates(root, words)) process.stdout.write(`${candidate}\n`);
    return ExitCode.ok;
  },
} satisfies CommandDef<any> as unknown as CommandDef;

type Resolvable<T> = T | (() => T | Promise<T>) | Promise<T> | undefined;

async function value<T>(input: Resolvable<T>): Promise<T | undefined> {
  return typeof input === "function" ? await (input as () => T | Promise<T>)() : await input;
}

/** The candidates for the last of `words` (possibly ""), after walking the words before it down the commands. */
export async function candidates(root: CommandDef, words: readonly string[]): Promise<string[]> {
  const partial = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  let command = root;
  let positionals = 0;
  let config: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word.startsWith("-")) {
      const def = flagDef((await value(command.args)) ?? {}, word);
      if (def && def.type !== "boolean" && !word.includes("=")) {
        if (word === "--config") config = before[i + 1];
        i++;
      }
      continue;
    }
    const subs = await value(command.subCommands);
    const next = subs?.[word] ? await value(subs[word] as Resolvable<CommandDef>) : undefined;
    if (next) command = next;
    else positionals++;
  }
  const args = ((await value(command.args)) ?? {}) as Record<string, ArgDef>;
  const previous = before.at(-1);
  if (previous?.startsWith("--") && !previous.includes("=")) {
    const def = flagDef(args, previous);
    if (def && def.type !== "boolean") return def.type === "enum" ? matching((def as { options?: string[] }).options ?? [], partial) : [];
  }
  if (partial.startsWith("-")) {
    const flags = Object.entries(args)
      .filter(([, def]) => def.type !== "positional")
      .map(([name]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    return matching([...flags, "--help"], partial);
  }
  const subs = await value(command.subCommands);
  if (subs) {
    const visible: string[] = [];
    for (const [name, entry] of Object.entries(subs)) {
      const meta = await value((await value(entry as Resolvable<CommandDef>))?.meta);
      if (!meta?.hidden) visible.push(name);
    }
    return matching(visible, partial);
  }
  const positional = Object.entries(args).filter(([, def]) => def.type === "positional")[positionals];
  if (!positional) return [];
  const [name, def] = positional;
  if (def.valueHint?.includes("|")) return matching(def.valueHint.split("|"), partial);
  return matching(namesFromConfig(config ?? configPath({}), name), partial);
}

/** Service names for a positional named like a service, backend addresses for one named like a backend. */
function namesFromConfig(file: string, positional: string): string[] {
  const wantsService = /service/i.test(positional);
  const wantsBackend = /backend|address|destination/i.test(positional);
  if (!wantsService && !wantsBackend) return [];
  const loaded = loadConfig(file);
  if (!loaded.ok) return [];
  const services = loaded.config.services;
  if (wantsService) return services.map((s) => s.name);
  return [...new Set(services.flatMap((s) => s.backends.map((b) => (b.port ? `${b.address.includes(":") ? `[${b.address}]` : b.address}:${b.port}` : b.address))))];
}

function flagDef(args: Record<string, ArgDef>, word: string): ArgDef | undefined {
  const name = word.replace(/^--?/, "").split("=")[0]!;
  for (const [key, def] of Object.entries(args)) {
    const aliases = [key, key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...[(def as { alias?: string | string[] }).alias ?? []].flat()];
    if (aliases.includes(name)) return def;
  }
  return undefined;
}

function matching(list: readonly string[], partial: string): string[] {
  return list.filter((item) => item.startsWith(partial)).sort();
}

const BASH = `# bash completion for lbctl (generated by: lbctl completion bash)
_lbctl() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ "$prev" == "--config" ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
  fi
  mapfile -t COMPREPLY < <("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -F _lbctl lbctl
`;

const ZSH = `#compdef lbctl
# zsh completion for lbctl (generated by: lbctl completion zsh)
_lbctl() {
  if [[ \${words[CURRENT-1]} == --config ]]; then
    _files
    return
  fi
  local -a candidates
  candidates=("\${(@f)$(\${words[1]} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
if (( $+functions[compdef] )); then compdef _lbctl lbctl; fi
`;

const FISH = `# fish completion for lbctl (generated by: lbctl completion fish)
function __lbctl_complete
    set -l tokens (commandline -opc) (commandline -ct)
    $tokens[1] __complete -- $tokens[2..-1] 2>/dev/null
end
complete -c lbctl -f -a '(__lbctl_complete)'
complete -c lbctl -l config -r -F -d 'Main config file (default ${DEFAULT_CONFIG_PATH})'
`;

const SCRIPTS = { bash: BASH, zsh: ZSH, fish: FISH } as const;
