import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { replaceCacheEntry } from "./cache.ts";
import { type CpioEntry, encodeCpio } from "./cpio.ts";
import { isStaticElf64 } from "./elf.ts";
import { LabUnavailableError } from "./errors.ts";
import type { LabKernel } from "./kernel.ts";
import { plainModuleName, readModule } from "./module-file.ts";
import { type ModuleLoad, planModuleLoads } from "./modules.ts";
import { initScriptPath, modprobeShimPath } from "./paths.ts";
import { findTool } from "./tools.ts";

/** Bump when the archive layout changes in a way the inputs below do not capture. */
const LAYOUT_VERSION = 2;
const DIRECTORIES = ["bin", "sbin", "dev", "etc", "etc/modprobe.d", "lib", "lib/modules", "lower", "newroot", "proc", "rw", "sys"];

interface InitramfsInputs {
  kernel: LabKernel;
  busybox: string;
  modules: ModuleLoad[];
  initScript: string;
  modprobeShim: string;
}

/** A statically linked busybox: the initramfs has no libc. Debian's busybox-static installs /bin/busybox. */
export function findStaticBusybox(): string | undefined {
  const candidates = ["/bin/busybox", "/usr/bin/busybox", findTool("busybox")];
  return candidates.find((path): path is string => !!path && existsSync(path) && isStaticElf64(path));
}

function fileIdentity(path: string): string {
  const { size, mtimeMs } = statSync(path);
  return `${path}:${size}:${Math.trunc(mtimeMs)}`;
}

/** Changes whenever anything that goes into the archive changes; names the cache entry. */
function cacheKey(inputs: InitramfsInputs): string {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(JSON.stringify({ layout: LAYOUT_VERSION, kernel: inputs.kernel.version }));
  hasher.update(fileIdentity(inputs.busybox));
  for (const module of inputs.modules) hasher.update(`${fileIdentity(module.path)} ${module.params}\n`);
  hasher.update(inputs.initScript);
  hasher.update(inputs.modprobeShim);
  return hasher.digest("hex").slice(0, 16);
}

function busyboxApplets(busybox: string): string[] {
  const result = Bun.spawnSync([busybox, "--list"]);
  return result.stdout.toString().split("\n").filter((name) => name && name !== "busybox");
}

/**
 * The modules, laid out for busybox modprobe: one `modprobe -a` loads them all in one process, where an insmod
 * per module would cost a process start each (about 50 ms emulated, over a second for the whole list).
 * modules.dep declares no dependencies because /etc/lab-modules already lists the modules in load order.
 */
function moduleEntries(inputs: InitramfsInputs): CpioEntry[] {
  const directory = `lib/modules/${inputs.kernel.version}`;
  const entries: CpioEntry[] = [{ kind: "directory", path: directory }];
  const names: string[] = [];
  const dependencyLines: string[] = [];
  const optionLines: string[] = [];
  for (const module of inputs.modules) {
    const fileName = plainModuleName(module.path);
    const name = fileName.replace(/\.ko$/, "").replaceAll("-", "_");
    entries.push({ kind: "file", path: `${directory}/${fileName}`, data: readModule(module.path) });
    names.push(name);
    dependencyLines.push(`${fileName}:`);
    if (module.params) optionLines.push(`options ${name} ${module.params}`);
  }
  const text = (lines: string[]) => Buffer.from(lines.length > 0 ? `${lines.join("\n")}\n` : "");
  entries.push({ kind: "file", path: `${directory}/modules.dep`, data: text(dependencyLines) });
  entries.push({ kind: "file", path: "etc/modprobe.d/lab.conf", data: text(optionLines) });
  entries.push({ kind: "file", path: "etc/lab-modules", data: text(names) });
  return entries;
}

function archiveEntries(inputs: InitramfsInputs): CpioEntry[] {
  const entries: CpioEntry[] = DIRECTORIES.map((path) => ({ kind: "directory", path }));
  entries.push({ kind: "file", path: "bin/busybox", data: readFileSync(inputs.busybox), executable: true });
  for (const applet of busyboxApplets(inputs.busybox)) {
    entries.push({ kind: "symlink", path: `bin/${applet}`, target: "busybox" });
  }
  entries.push({ kind: "file", path: "sbin/modprobe", data: Buffer.from(inputs.modprobeShim), executable: true });
  entries.push({ kind: "file", path: "init", data: Buffer.from(inputs.initScript), executable: true });
  entries.push(...moduleEntries(inputs));
  return entries;
}

/**
 * The initramfs for the kernel, built on first use and cached per kernel version and content hash under the
 * cache directory. Throws LabUnavailableError when an ingredient is missing.
 */
export function ensureInitramfs(kernel: LabKernel, cacheDir: string): string {
  const busybox = findStaticBusybox();
  if (!busybox) {
    throw new LabUnavailableError("No statically linked busybox found (package busybox-static); run tests/lab/setup.sh");
  }
  const inputs: InitramfsInputs = {
    kernel,
    busybox,
    modules: planModuleLoads(kernel),
    initScript: readFileSync(initScriptPath, "utf8"),
    modprobeShim: readFileSync(modprobeShimPath, "utf8"),
  };
  const name = `initramfs-${kernel.version}-${cacheKey(inputs)}.cpio`;
  const cached = join(cacheDir, name);
  if (existsSync(cached)) return cached;
  return replaceCacheEntry(cacheDir, "initramfs-", name, encodeCpio(archiveEntries(inputs)));
}
