/**
 * Mutated nginx and keepalived configurations for the converters' fuzz runs: deterministic (a seeded PRNG), starting
 * from the corpus and the grammar fixtures, mutating with the characters and words the grammars give meaning to.
 */

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ConvertError } from "../../src/convert/issues.ts";
import { convertKeepalived } from "../../src/convert/keepalived/convert.ts";
import { convertNginx } from "../../src/convert/nginx/convert.ts";
import { renderServiceFile } from "../../src/convert/render.ts";
import { memoryReader } from "../../src/convert/source.ts";

export type Kind = "nginx" | "keepalived";

const ROOT = join(import.meta.dir, "../convert");
const MAIN: Record<Kind, string> = { nginx: "/etc/nginx/nginx.conf", keepalived: "/etc/keepalived/keepalived.conf" };

const TOKENS: Record<Kind, string[]> = {
  nginx: ["{", "}", ";", '"', "'", "#", "\\", "$", "${", "\n", " ", "include conf.d/*.conf;", "include nginx.conf;", "listen 0;", "listen 1-65535 udp;", "listen [::1]:53 udp;", "server 10.0.0.1:99999 weight=0;", "server unix:/x backup;", "upstream u { server 10.0.0.1:1; }", "content_by_lua_block { -- }\n", "[[", "]]", "stream {", "http {", "server {", "proxy_pass u;", "least_conn;", "hash $remote_addr consistent;", "health_check udp match=m;", "match m { send \"\\x00\"; }", "max_fails=0", "fail_timeout=0s", "\u0000", "é", "a".repeat(300)],
  keepalived: ["{", "}", "!", "#", '"', "\n", " ", "include *.conf", "include keepalived.conf", "virtual_server 10.0.0.1 80 {", "virtual_server group g {", "virtual_server_group g {", "10.0.0.1-300 80", "fwmark 1", "real_server 10.0.0.2 0 {", "weight -1", "weight 99999999", "lb_algo nope", "lb_kind DR", "protocol SCTP", "persistence_timeout 99999999999", "delay_loop 0", "connect_timeout 100000", "TCP_CHECK {", "HTTP_GET { url { path x } }", "UDP_CHECK { payload zz }", "DNS_CHECK {", "::1", "\u0000", "a".repeat(300)],
};

export function seeds(kind: Kind): string[] {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".conf")) texts.push(readFileSync(path, "utf8"));
    }
  };
  walk(join(ROOT, "corpus", kind));
  if (kind === "nginx") walk(join(ROOT, "fixtures/nginx"));
  return texts;
}

/** Mulberry32: small, fast, seeded. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(kind: Kind, text: string, rand: () => number): string {
  let out = text;
  const rounds = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    const len = Math.floor(rand() * 20);
    switch (Math.floor(rand() * 5)) {
      case 0: // delete
        out = out.slice(0, at) + out.slice(at + len);
        break;
      case 1: {
        const tokens = TOKENS[kind];
        out = out.slice(0, at) + tokens[Math.floor(rand() * tokens.length)]! + out.slice(at);
        break;
      }
      case 2: // duplicate a slice
        out = out.slice(0, at) + out.slice(at, at + len * 10) + out.slice(at);
        break;
      case 3: // a random byte
        out = out.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + out.slice(at + 1);
        break;
      default: {
        // deep nesting
        const depth = Math.floor(rand() * 400);
        out = out.slice(0, at) + (kind === "nginx" ? "a {".repeat(depth) : "a {\n".repeat(depth)) + out.slice(at);
      }
    }
  }
  return out;
}

export interface Outcome {
  kind: "converted" | "refused";
  ms: number;
  /** Set when the converter broke its contract: a crash, an unlocated error, or output that is not YAML. */
  problem?: string;
}

/** One input through the converter as the CLI drives it; the contract: services or a located ConvertError. */
export function runOne(kind: Kind, text: string): Outcome {
  const started = performance.now();
  const files = new Map([[MAIN[kind], text], [kind === "nginx" ? "/etc/nginx/conf.d/a.conf" : "/etc/keepalived/a.conf", text.slice(0, 200)]]);
  try {
    const result = kind === "nginx" ? convertNginx(memoryReader(files), MAIN[kind], { httpAsTcp: text.length % 2 === 0 }) : convertKeepalived(memoryReader(files), MAIN[kind]);
    for (const service of result.services) {
      const yaml = parse(renderServiceFile(service, { generator: "fuzz", date: new Date(0) })) as { services: Array<{ name: string }> };
      if (yaml.services[0]?.name !== service.service.name) return { kind: "converted", ms: performance.now() - started, problem: "rendered YAML does not read back" };
    }
    for (const warning of result.warnings) {
      if (!(warning.line >= 1) || !warning.file) return { kind: "converted", ms: performance.now() - started, problem: `unlocated warning: ${warning.message}` };
    }
    return { kind: "converted", ms: performance.now() - started };
  } catch (error) {
    const ms = performance.now() - started;
    if (!(error instanceof ConvertError)) return { kind: "refused", ms, problem: `crash: ${error instanceof Error ? error.stack : String(error)}` };
    if (!error.location && error.code !== "unreadable") return { kind: "refused", ms, problem: `unlocated ${error.code} error: ${error.message}` };
    return { kind: "refused", ms };
  }
}

export interface FuzzReport {
  inputs: number;
  converted: number;
  refused: number;
  slowestMs: number;
  /** Inputs also run through the binary (Sample). */
  sampled: number;
  problems: Array<{ input: string; problem: string }>;
}

/** Every `every`-th input also goes through `check` (the built binary): a message is a problem. */
export interface Sample {
  every: number;
  check: (kind: Kind, input: string) => string | undefined;
}

export function fuzz(kind: Kind, inputs: number, seed = 1, sample?: Sample): FuzzReport {
  const base = seeds(kind);
  const rand = random(seed);
  const report: FuzzReport = { inputs, converted: 0, refused: 0, slowestMs: 0, sampled: 0, problems: [] };
  for (let i = 0; i < inputs; i++) {
    const input = mutate(kind, base[i % base.length]!, rand);
    const outcome = runOne(kind, input);
    report[outcome.kind]++;
    report.slowestMs = Math.max(report.slowestMs, outcome.ms);
    if (sample && i % sample.every === 0) {
      report.sampled++;
      const problem = sample.check(kind, input);
      if (problem) report.problems.push({ input, problem: `binary: ${problem}` });
    }
    if (outcome.problem) report.problems.push({ input, problem: outcome.problem });
    else if (outcome.ms > 1000) {
      // A loaded machine pauses now and then (garbage collection, other processes): slow twice is a hang.
      const again = runOne(kind, input);
      if (again.ms > 1000) report.problems.push({ input, problem: `took ${Math.round(outcome.ms)} ms, then ${Math.round(again.ms)} ms (over 1 s)` });
    }
  }
  return report;
}
