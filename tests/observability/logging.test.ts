/** Log destinations from config: console + GELF at one level, audit to both, GELF failures on the console only, rate-limited. */

import { describe, expect, test } from "bun:test";
import type { MainFile } from "../../src/config/model.ts";
import type { GelfSink } from "../../src/observability/gelf/sink.ts";
import type { LogRecord } from "../../src/observability/logger.ts";
import { ERROR_REPORT_WINDOW_MS, LogOutputs } from "../../src/observability/logging.ts";
import { ReportThrottle } from "../../src/observability/rate-limit.ts";

type Logging = MainFile["observability"]["logging"];

function logging(level: "debug" | "info" | "warn" | "error", gelf: Partial<Logging["gelf"]> = {}): Logging {
  return {
    console: { enabled: true, level, format: "text" },
    gelf: { enabled: true, host: "graylog.example", port: 12201, protocol: "udp", facility: "lbctl", ...gelf },
  };
}

function rig() {
  let now = 0;
  let stderr = "";
  const opened: { config: Logging["gelf"]; node: string; records: LogRecord[]; closed: boolean; fail: (message: string) => void }[] = [];
  const outputs = new LogOutputs({
    stderr: { write: (text: string) => (stderr += text) },
    now: () => now,
    gelf: (config, node, onError): GelfSink => {
      const sink = { config, node, records: [] as LogRecord[], closed: false, fail: onError };
      opened.push(sink);
      return { write: (record) => void sink.records.push(record), flush: () => {}, close: () => void (sink.closed = true) };
    },
    // Queued records are written when the test flushes (what the daemon's setImmediate does).
    schedule: () => {},
  });
  // What the console shows once its queue is written.
  const written = () => {
    outputs.flush();
    return stderr;
  };
  return { outputs, opened, stderr: written, advance: (ms: number) => void (now += ms) };
}

describe("log outputs", () => {
  test("lines at the level go to the console and GELF; audit records go to both whatever the level", () => {
    const r = rig();
    r.outputs.configure(logging("warn"), "lb-a");
    r.outputs.logger.info("hidden");
    r.outputs.logger.warn("shown", { vip: "192.0.2.10" });
    r.outputs.logger.audit({ event: "config_changed", level: "info", message: "Config changed", fields: { old_hash: "a", new_hash: "b" } });
    expect(r.stderr()).not.toContain("hidden");
    expect(r.stderr()).toContain("WARN  shown vip=192.0.2.10");
    expect(r.stderr()).toContain("INFO  Config changed audit=config_changed old_hash=a new_hash=b");
    expect(r.opened[0]!.records.map((rec) => [rec.message, rec.audit])).toEqual([
      ["shown", undefined],
      ["Config changed", "config_changed"],
    ]);
    expect(r.opened[0]!.node).toBe("lb-a");
  });

  test("GELF failures: on the console only, once a minute, with the number suppressed", () => {
    const r = rig();
    r.outputs.configure(logging("info"), "lb-a");
    const gelf = r.opened[0]!;
    for (let i = 0; i < 5; i++) gelf.fail("GELF UDP to graylog.example:12201: ECONNREFUSED");
    expect(r.stderr().match(/ECONNREFUSED/g)).toHaveLength(1);
    r.advance(ERROR_REPORT_WINDOW_MS);
    gelf.fail("GELF UDP to graylog.example:12201: ECONNREFUSED");
    expect(r.stderr().match(/ECONNREFUSED/g)).toHaveLength(2);
    expect(r.stderr()).toContain("suppressed_repeats=4");
    expect(gelf.records).toEqual([]);
  });

  test("reload: a new GELF target closes the old sink; the same target keeps it; disabled closes it", () => {
    const r = rig();
    r.outputs.configure(logging("info"), "lb-a");
    r.outputs.configure(logging("debug"), "lb-a");
    expect(r.opened).toHaveLength(1);
    r.outputs.configure(logging("info", { protocol: "tcp" }), "lb-a");
    expect(r.opened).toHaveLength(2);
    expect(r.opened[0]!.closed).toBe(true);
    r.outputs.configure(logging("info", { enabled: false }), "lb-a");
    expect(r.opened[1]!.closed).toBe(true);
    r.outputs.logger.warn("after");
    expect(r.opened[1]!.records).toEqual([]);
  });
});

describe("report throttle", () => {
  test("one report per key per window, counting what it held back", () => {
    const throttle = new ReportThrottle(1000);
    expect(throttle.allow("a", 0)).toBe(0);
    expect(throttle.allow("a", 10)).toBeUndefined();
    expect(throttle.allow("b", 10)).toBe(0);
    expect(throttle.allow("a", 999)).toBeUndefined();
    expect(throttle.allow("a", 1000)).toBe(2);
    expect(throttle.allow("a", 1001)).toBeUndefined();
  });
});
