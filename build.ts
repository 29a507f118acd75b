/**
 * `npm run build`: compiles src/cli/main.ts into one self-contained executable, build/lbctl, and writes the JSON
 * Schemas of the config files to dist/schema/ for editors. Bytecode and code splitting (each command's code is loaded
 * only when it runs) keep start-up short, which cron users of `lbctl validate` pay on every run.
 *
 * It also writes the man page lbctl(8) from docs/cli.md to dist/lbctl.8 (embedded in the binary) and build/lbctl.8.
 *
 * Release artefacts (docs/install.md): build/lbctl-linux-x64 (the same binary), build/lbctl.8 and build/SHA256SUMS always;
 * `npm run build -- --release` also cross-compiles lbctl-linux-x64-baseline (x86-64 without AVX2) and
 * lbctl-linux-arm64. Bun fetches those targets' runtimes from the npm registry (@oven/bun-linux-*) once and caches
 * them, so they are built only on request, keeping `npm test`'s build fast.
 */

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema } from "./src/config/json-schema.ts";
import { markdownToMan } from "./src/system/man-page.ts";

const root = import.meta.dir;
// `--outdir=DIR` builds elsewhere (the release test uses a scratch folder); default build/.
const outDir = process.argv.find((arg) => arg.startsWith("--outdir="))?.slice("--outdir=".length) ?? join(root, "build");

function writeSchemas(): void {
  const schemaDir = join(root, "dist", "schema");
  mkdirSync(schemaDir, { recursive: true });
  writeFileSync(join(schemaDir, "config.schema.json"), `${JSON.stringify(configJsonSchema("main"), null, 2)}\n`);
  writeFileSync(join(schemaDir, "service.schema.json"), `${JSON.stringify(configJsonSchema("service"), null, 2)}\n`);
}

/** lbctl(8) from docs/cli.md: dist/lbctl.8 is embedded in the binary (`lbctl setup files` installs it). */
function writeManPage(): string {
  const { version, description } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; description: string };
  const page = markdownToMan(readFileSync(join(root, "docs/cli.md"), "utf8"), { version, summary: description.replace(/^LibraFlux load balancer: /, "the LibraFlux load balancer: ") });
  const path = join(root, "dist", "lbctl.8");
  writeFileSync(path, page);
  return path;
}

async function compile(target: string, outfile: string): Promise<void> {
  const started = performance.now();
  const proc = Bun.spawn(
    [process.execPath, "build", "--compile", "--minify", "--bytecode", "--format=esm", "--splitting", "--sourcemap=none", `--target=${target}`, join(root, "src/cli/main.ts"), "--outfile", outfile],
    { cwd: root, stdout: "inherit", stderr: "inherit" },
  );
  if ((await proc.exited) !== 0) throw new Error(`bun build --compile failed for ${target}`);
  console.log(`built ${outfile} (${target}) in ${Math.round(performance.now() - started)} ms`);
}

/** Release name → Bun compile target. */
const RELEASE_TARGETS: Record<string, string> = {
  "lbctl-linux-x64-baseline": "bun-linux-x64-baseline",
  "lbctl-linux-arm64": "bun-linux-arm64",
};

/** SHA256SUMS in the format sha256sum -c and install.sh read: `<hex>  <name>`. */
function writeChecksums(names: string[]): void {
  const lines = names.map((name) => `${new Bun.CryptoHasher("sha256").update(readFileSync(join(outDir, name))).digest("hex")}  ${name}\n`);
  writeFileSync(join(outDir, "SHA256SUMS"), lines.join(""));
}

const release = process.argv.includes("--release");
mkdirSync(outDir, { recursive: true });
writeSchemas();
copyFileSync(writeManPage(), join(outDir, "lbctl.8"));
await compile("bun-linux-x64", join(outDir, "lbctl"));
copyFileSync(join(outDir, "lbctl"), join(outDir, "lbctl-linux-x64"));
const artefacts = ["lbctl-linux-x64", "lbctl.8"];
for (const [name, target] of Object.entries(RELEASE_TARGETS)) {
  const path = join(outDir, name);
  if (release) {
    await compile(target, path);
    artefacts.push(name);
  } else if (existsSync(path)) {
    rmSync(path); // from an older release build: SHA256SUMS must not vouch for it
  }
}
writeChecksums(artefacts);
