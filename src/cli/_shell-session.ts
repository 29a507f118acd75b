/**
 * One `lbctl shell` session: its mode, its pending changes, its lock, and what each command does. The terminal and
 * the script driver (shell.ts) feed it lines; it prints through a Printer and answers whether the line succeeded.
 */

import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { runCommand, type CommandDef } from "citty";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { applyServiceCommand, backendNames, DraftError, newService, type RawService } from "../shell/draft.ts";
import { fileEdits, newServiceFile, servicesInFiles } from "../shell/file-edits.ts";
import { PROMPTS, type Mode } from "../shell/grammar.ts";
import { describeLock, judgeLock } from "../shell/lock.ts";
import { completeLine, formatHelp, helpFor, parseLine, type Dynamic } from "../shell/parse.ts";
import { draftOf, markDeleted, NO_CHANGES, renderPending, serviceYaml, stage, type Pending, type ServiceOrigin } from "../shell/pending.ts";
import { acquireLock, breakLock, lockPath, processAlive, readLockText, type HeldLock } from "./_config-lock.ts";
import { commitEdits, refuseOnSecondary, validateEdits, type Printer } from "./_config-commit.ts";
import { auditLockBreak } from "./_lock-break-audit.ts";
import { serviceTexts, showBackends, showConfig, showDiff, showHealth, showService, showServices, showVips } from "./_shell-show.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

/** How a line ended: 0 ok, else the exit code a script stops with. */
export type LineResult = number;

/** What the session knows of the configuration it edits: the files as read when `configure` ran. */
interface Snapshot {
  config: Config;
  origins: Map<string, ServiceOrigin>;
}

export class ShellSession {
  mode: Mode = "root";
  private pending: Pending = NO_CHANGES;
  private snapshot: Snapshot | undefined;
  private lock: HeldLock | undefined;
  /** The service being edited in service mode. */
  private current: { name: string; origin: ServiceOrigin | undefined; draft: RawService } | undefined;
  /** Set by `exit` in root mode. */
  done = false;

  constructor(
    readonly configFile: string,
    private readonly print: Printer,
    private readonly commands: { status: CommandDef<any>; doctor: CommandDef<any>; reload: CommandDef<any> },
  ) {}

  get prompt(): string {
    return PROMPTS[this.mode];
  }

  /** Minutes of inactivity after which config mode gives up its lock (system.lock_idle_timeout_minutes). */
  get idleMinutes(): number {
    return this.snapshot?.config.main.system.lock_idle_timeout_minutes ?? 10;
  }

  names(): Dynamic {
    const services = new Set<string>(this.snapshot?.origins.keys() ?? []);
    if (!this.snapshot) {
      const loaded = loadConfig(this.configFile);
      if (loaded.ok) for (const s of loaded.config.services) services.add(s.name);
    }
    for (const [name, change] of this.pending) {
      if (change.kind === "deleted") services.delete(name);
      else services.add(name);
    }
    return { services: [...services].sort(), backends: backendNames(this.current?.draft) };
  }

  complete(line: string): [string[], string] {
    const { candidates, partial } = completeLine(line, this.mode, this.names());
    return [candidates, partial];
  }

  /** `?` typed at the end of `line`: what may come next. */
  help(line: string): void {
    const entries = helpFor(line, this.mode, this.names());
    if (entries.length === 0) this.print.error(`error: nothing may follow "${line.trim()}"`);
    for (const text of formatHelp(entries)) this.print.info(text);
  }

  async run(line: string): Promise<LineResult> {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return ExitCode.ok;
    if (trimmed.endsWith("?")) {
      this.help(line.slice(0, line.lastIndexOf("?")));
      return ExitCode.ok;
    }
    const parsed = parseLine(line, this.mode);
    if (!parsed.ok) {
      this.print.error(`error: ${parsed.message} (column ${parsed.column})`);
      return ExitCode.usage;
    }
    try {
      if (this.mode === "root") return await this.root(parsed.run, parsed.values);
      if (this.mode === "config") return await this.configMode(parsed.run, parsed.values);
      return this.serviceMode(parsed);
    } catch (error) {
      if (error instanceof ConfigError) {
        for (const issue of error.issues) this.print.error(formatIssue(issue));
        return error.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
      }
      if (error instanceof CliError || error instanceof DraftError) {
        this.print.error(`error: ${error.message}`);
        return error instanceof CliError ? error.exitCode : ExitCode.failed;
      }
      throw error;
    }
  }

  /** No command in config mode for system.lock_idle_timeout_minutes: the lock goes back, with the pending changes. */
  expireIdle(): void {
    if (this.mode === "root") return;
    this.leaveConfig(`Session idle for ${this.idleMinutes} minutes: pending changes dropped, configuration lock released.`);
  }

  /** Drops pending changes and the lock (exit, idle timeout, end of input, a signal). */
  leaveConfig(reason?: string): void {
    if (reason) this.print.info(reason);
    else if (this.pending.size > 0) this.print.info(`Dropped ${this.pending.size} pending change${this.pending.size === 1 ? "" : "s"}.`);
    this.pending = NO_CHANGES;
    this.current = undefined;
    this.snapshot = undefined;
    this.lock?.release();
    this.lock = undefined;
    this.mode = "root";
  }

  private async root(run: string, values: string[]): Promise<LineResult> {
    const config = ["--config", this.configFile];
    switch (run) {
      case "show-status":
        return this.runCommand(this.commands.status, config);
      case "show-stats":
        return this.runCommand(this.commands.status, [...config, "--stats"]);
      case "doctor":
        return this.runCommand(this.commands.doctor, config);
      case "reload":
        return this.runCommand(this.commands.reload, config);
      case "show-services":
        return showServices(this.load(), this.print);
      case "show-service":
        return showService(this.load(), values[0]!, this.print);
      case "show-backends":
        return showBackends(this.load(), this.print);
      case "show-vips":
        return showVips(this.load(), this.print);
      case "show-config":
        return showConfig(this.load(), this.print);
      case "show-diff":
        return showDiff(this.load(), this.print);
      case "show-health":
        return showHealth(this.load(), this.print);
      case "configure":
        return this.configure();
      case "lock-status":
        return this.lockStatus();
      case "lock-break": {
        const config = this.load();
        const info = breakLock(lockPath(config));
        this.print.info(`Broke the configuration lock of ${info.user}@${info.host} (pid ${info.pid}, since ${info.since}); its pending changes can no longer be committed.`);
        await auditLockBreak(config.main.daemon.socket, info, this.print);
        return ExitCode.ok;
      }
      case "help":
        return this.listCommands();
      case "exit":
        this.done = true;
        return ExitCode.ok;
    }
    throw new CliError(`"${run}" is not a root-mode command`);
  }

  private async configMode(run: string, values: string[]): Promise<LineResult> {
    const snapshot = this.snapshot!;
    switch (run) {
      case "service": {
        const name = values[0]!;
        const origin = snapshot.origins.get(name);
        const draft = draftOf(this.pending, name, origin);
        if (!draft) this.print.info(`New service ${name} (defaults until set: protocol tcp, scheduler wlc, no health checks).`);
        this.current = { name, origin, draft: draft ?? newService(name) };
        if (!draft) this.pending = stage(this.pending, name, origin, this.current.draft);
        this.mode = "service";
        return ExitCode.ok;
      }
      case "delete": {
        const name = values[0]!;
        const origin = snapshot.origins.get(name);
        if (!origin && !this.pending.has(name)) throw new CliError(`No service ${name}`);
        this.pending = markDeleted(this.pending, name, origin);
        return ExitCode.ok;
      }
      case "show-pending":
        for (const text of renderPending(this.pending)) this.print.info(text);
        return ExitCode.ok;
      case "validate": {
        const edits = this.edits();
        const result = validateEdits(this.configFile, edits, this.print);
        if (!result.ok) return result.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
        this.print.info(`Valid: ${result.config.services.length} services with the pending changes (${edits.size} file${edits.size === 1 ? "" : "s"} to write).`);
        return ExitCode.ok;
      }
      case "commit": {
        const code = await commitEdits({
          mainFile: this.configFile,
          edits: this.edits(),
          before: this.freshConfig(),
          lock: this.lock!,
          print: this.print,
          origin: "shell",
          expect: {
            present: [...this.pending.values()].filter((c) => c.kind !== "deleted").map((c) => c.name),
            absent: [...this.pending.values()].filter((c) => c.kind === "deleted").map((c) => c.name),
          },
        });
        if (code === ExitCode.ok) {
          this.pending = NO_CHANGES;
          this.snapshot = this.read();
        }
        return code;
      }
      case "abort":
        this.pending = NO_CHANGES;
        this.print.info("Aborted pending changes.");
        return ExitCode.ok;
      case "help":
        return this.listCommands();
      case "exit":
        this.leaveConfig();
        return ExitCode.ok;
    }
    throw new CliError(`"${run}" is not a config-mode command`);
  }

  private serviceMode(parsed: { run: string; keywords: string[]; values: string[] }): LineResult {
    const current = this.current!;
    switch (parsed.run) {
      case "show-service":
        for (const text of serviceYaml(current.draft)) this.print.info(text);
        return ExitCode.ok;
      case "help":
        return this.listCommands();
      case "exit":
        this.current = undefined;
        this.mode = "config";
        return ExitCode.ok;
    }
    current.draft = applyServiceCommand(current.draft, parsed);
    this.pending = stage(this.pending, current.name, current.origin, current.draft);
    return ExitCode.ok;
  }

  private listCommands(): LineResult {
    for (const text of formatHelp(helpFor("", this.mode).filter((e) => e.word !== "<cr>"))) this.print.info(text);
    return ExitCode.ok;
  }

  private async runCommand(command: CommandDef<any>, rawArgs: string[]): Promise<LineResult> {
    const { result } = await runCommand(command, { rawArgs });
    return typeof result === "number" ? result : ExitCode.ok;
  }

  private load(): Config {
    const loaded = loadConfig(this.configFile);
    if (!loaded.ok) throw new ConfigError(loaded.code, loaded.issues);
    return loaded.config;
  }

  /** The configuration as on disk now, or undefined when it does not load (the commit's validation says why). */
  private freshConfig(): Config | undefined {
    const loaded = loadConfig(this.configFile);
    return loaded.ok ? loaded.config : undefined;
  }

  private read(): Snapshot {
    const config = this.load();
    return { config, origins: servicesInFiles(serviceTexts(config.files.slice(1))) };
  }

  private async configure(): Promise<LineResult> {
    const snapshot = this.read();
    refuseOnSecondary(snapshot.config, "configure");
    this.lock = acquireLock(lockPath(snapshot.config), "shell", (notice) => this.print.info(notice));
    this.snapshot = snapshot;
    this.pending = NO_CHANGES;
    this.mode = "config";
    return ExitCode.ok;
  }

  /** The files the pending changes rewrite, from the files on disk now (commit re-reads; a conflict stops it). */
  private edits(): Map<string, string | null> {
    const config = this.freshConfig() ?? this.snapshot!.config;
    const main = config.main;
    const pattern = isAbsolute(main.include) ? main.include : join(dirname(resolve(this.configFile)), main.include);
    const { edits, conflicts } = fileEdits(this.pending, serviceTexts(config.files.slice(1)), (name) => newServiceFile(pattern, name));
    if (conflicts.length > 0) throw new CliError(`Cannot commit: ${conflicts.join("; ")}`);
    return edits;
  }

  private lockStatus(): LineResult {
    const path = lockPath(this.load());
    const text = readLockText(path);
    const verdict = judgeLock(text, { host: hostname(), pid: process.pid }, processAlive);
    if (verdict.state === "free") this.print.info("No configuration lock held.");
    else if (verdict.state === "stale") this.print.info(`Stale configuration lock in ${path}: ${verdict.reason}; the next configure takes it over.`);
    else this.print.info(`${describeLock(verdict.info, new Date())}${verdict.state === "mine" ? " (this session)" : ""}.`);
    return ExitCode.ok;
  }
}
