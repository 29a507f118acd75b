/**
 * `lbctl doctor` on this host, which has no IPVS: the JSON shape of cli.md, FAIL for IPVS with a fix that says what
 * to do, exit 1. (tests/lab/doctor.test.ts runs it where IPVS exists.)
 */

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { configTree, oneService } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

const hostHasIpvs = existsSync("/proc/net/ip_vs");

describe("lbctl doctor", () => {
  test("--json: one object of checks with name, status, message, fix; IPVS fails here with its fix; exit 1", async () => {
    const tree = configTree({ services: { "web.yaml": oneService("ports: [80]\nscheduler: twos\nbackends:\n  - address: 10.0.0.1") } });
    try {
      const run = await runLbctl(["doctor", "--json", "--config", tree.main]);
      const report = JSON.parse(run.stdout) as { checks: { name: string; status: string; message: string; fix: string | null }[] };
      for (const check of report.checks) {
        expect(Object.keys(check).sort()).toEqual(["fix", "message", "name", "status"]);
        expect(["pass", "warn", "fail"]).toContain(check.status);
        if (check.status === "pass") expect(check.fix).toBeNull();
        else expect(check.fix).toBeTruthy();
      }
      const byName = new Map(report.checks.map((c) => [c.name, c]));
      expect(byName.get("config")?.status).toBe("pass");
      if (!hostHasIpvs) {
        expect(byName.get("ipvs")).toMatchObject({ status: "fail", message: expect.stringContaining("IPVS netlink family is missing") });
        expect(byName.get("ipvs")!.fix).toMatch(/modprobe ip_vs|kernel built with IPVS/);
        // One cause, one fix: the sysctls line says what the ipvs line says, and is a warning beside it.
        expect(byName.get("ipvs sysctls")).toMatchObject({ status: "warn", fix: byName.get("ipvs")!.fix });
        expect(run.exitCode).toBe(1);
      }
      // No vrrp section: FRR findings are warnings only.
      expect(report.checks.filter((c) => c.name.startsWith("frr")).every((c) => c.status !== "fail")).toBe(true);
    } finally {
      tree.remove();
    }
  });

  test("text: one line per check, fix lines under problems, a summary; an invalid config is a FAIL, not a crash", async () => {
    const tree = configTree({ main: "node: { name: lb-a }\n" });
    try {
      const run = await runLbctl(["doctor", "--config", tree.main]);
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toMatch(/^FAIL  config\s+.*network/m);
      expect(run.stdout).toMatch(/fix: lbctl validate --config /);
      expect(run.stdout).toMatch(/\d+ passed, \d+ warnings, \d+ failed\n$/);
    } finally {
      tree.remove();
    }
  });

  test.if(!hostHasIpvs)("apply without IPVS gives doctor's reason and fix, not a modprobe that cannot work", async () => {
    const tree = configTree({ services: { "web.yaml": oneService("ports: [80]\nbackends:\n  - address: 10.0.0.1") } });
    try {
      const doctor = JSON.parse((await runLbctl(["doctor", "--json", "--config", tree.main])).stdout) as { checks: { name: string; message: string; fix: string }[] };
      const ipvs = doctor.checks.find((c) => c.name === "ipvs")!;
      const apply = await runLbctl(["apply", "--config", tree.main]);
      expect(apply.exitCode).toBe(1);
      expect(apply.stderr).toContain(ipvs.fix);
      expect(apply.stderr).toContain(ipvs.message.replace("The IPVS netlink family is missing: ", ""));
      const json = JSON.parse((await runLbctl(["apply", "--json", "--config", tree.main])).stdout);
      expect(json.error.message).toContain(ipvs.fix);
    } finally {
      tree.remove();
    }
  });

  test("each sysctl is reported once: ip_forward by its own line, not again among the profile's values", async () => {
    const tree = configTree({ services: { "web.yaml": oneService("ports: [80]\nbackends:\n  - address: 10.0.0.1") } });
    try {
      const report = JSON.parse((await runLbctl(["doctor", "--json", "--config", tree.main])).stdout) as { checks: { name: string; message: string }[] };
      const mentions = report.checks.filter((c) => c.name === "net.ipv4.ip_forward" || c.message.includes("net.ipv4.ip_forward"));
      expect(mentions.map((c) => c.name)).toEqual(["net.ipv4.ip_forward"]);
    } finally {
      tree.remove();
    }
  });
});
