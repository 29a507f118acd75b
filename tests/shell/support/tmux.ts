/**
 * A pseudo-terminal driven through tmux: start a command in a detached session of a private tmux server, send
 * keys, read the screen. tmux comes with tests/lab/setup.sh (tests/lab/packages.txt); without it the tests that
 * need it skip loudly outside CI and fail under CI=true.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const tmuxBinary = Bun.which("tmux");
export const inCi = process.env.CI === "true" || process.env.CI === "1";
if (!tmuxBinary && !inCi) process.stderr.write("WARNING: tmux is missing: the terminal tests of lbctl shell are skipped (install it: tests/lab/packages.txt)\n");

/** Whether the pty tests are skipped: only outside CI and without tmux. */
export const skipPty = !tmuxBinary && !inCi;

export class Terminal {
  private readonly socketDir = mkdtempSync(join(tmpdir(), "lbctl-tmux-"));
  private readonly socket = join(this.socketDir, "tmux.sock");

  private constructor(private readonly session: string) {}

  /** Starts `command` (argv) in a 120x40 terminal with `env`; the shell of the pane is not involved. */
  static start(command: string[], env: Record<string, string>, cwd: string): Terminal {
    if (!tmuxBinary) throw new Error("tmux is not installed (tests/lab/packages.txt lists it); CI=true makes this a failure");
    const terminal = new Terminal("t");
    // Through env(1): tmux's own `-e` does not override PATH.
    const exports = Object.entries({ TERM: "xterm-256color", NO_COLOR: "1", ...env }).map(([k, v]) => quote(`${k}=${v}`));
    // `; sleep` keeps the pane (and its last screen) after the command exits, with its exit status printed.
    const script = `env ${exports.join(" ")} ${command.map(quote).join(" ")}; echo "[exit $?]"; sleep 600`;
    terminal.tmux(["new-session", "-d", "-s", terminal.session, "-x", "120", "-y", "40", "-c", cwd, "sh", "-c", script]);
    return terminal;
  }

  tmux(args: string[]): string {
    const run = Bun.spawnSync([tmuxBinary!, "-S", this.socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`tmux ${args[0]}: ${run.stderr.toString()}`);
    return run.stdout.toString();
  }

  /** Literal text (no key names), then nothing else. */
  type(text: string): void {
    this.tmux(["send-keys", "-t", this.session, "-l", text]);
  }

  /**
   * Types `text` and waits until the terminal echoed it at the end of the cursor's line: the program has read it,
   * so a Tab or `?` sent next arrives alone (a loaded machine may otherwise deliver both in one read).
   */
  async typeEchoed(text: string, timeoutMs = 20_000): Promise<void> {
    this.type(text);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const lines = this.screen().trimEnd().split("\n");
      if (lines.at(-1)!.trimEnd().endsWith(text.trimEnd())) return;
      await Bun.sleep(30);
    }
    throw new Error(`the terminal did not echo ${JSON.stringify(text)}:\n${this.screen()}`);
  }

  /**
   * Key names: Tab, Enter, C-c, C-d, Up. Each is sent after a pause: readline takes a Tab that arrives in one read
   * with other input for pasted text and inserts it literally.
   */
  async keys(...names: string[]): Promise<void> {
    for (const name of names) {
      await Bun.sleep(150);
      this.tmux(["send-keys", "-t", this.session, name]);
    }
  }

  /** Types a line and presses Enter. */
  line(text: string): void {
    this.type(text);
    this.tmux(["send-keys", "-t", this.session, "Enter"]);
  }

  /** Empties the line being edited (C-a C-k) and waits until the cursor's line is the bare prompt again. */
  async clearLine(prompt: string, timeoutMs = 20_000): Promise<void> {
    await this.keys("C-a", "C-k");
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.screen().trimEnd().split("\n").at(-1)!.trimEnd() === prompt.trimEnd()) return;
      await Bun.sleep(30);
    }
    throw new Error(`the line did not clear:\n${this.screen()}`);
  }

  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", this.session]);
  }

  /** Waits until the screen contains `text` (or matches it), the positive signal every step waits for. */
  async waitFor(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < deadline) {
      screen = this.screen();
      if (typeof text === "string" ? screen.includes(text) : text.test(screen)) return screen;
      await Bun.sleep(50);
    }
    throw new Error(`timed out waiting for ${String(text)} on the screen:\n${screen}`);
  }

  /** How many times `text` is on the screen (to wait for a second prompt, for instance). */
  count(text: string): number {
    return this.screen().split(text).length - 1;
  }

  async waitForCount(text: string, count: number, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.count(text) >= count) return this.screen();
      await Bun.sleep(50);
    }
    throw new Error(`timed out waiting for ${count}x ${text} on the screen:\n${this.screen()}`);
  }

  close(): void {
    try {
      this.tmux(["kill-server"]);
    } catch {
      // already gone
    }
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}

function quote(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
