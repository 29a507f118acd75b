/** Each doctor check against a fake host: the statuses and the fixes an operator would act on. */

import { describe, expect, test } from "bun:test";
import { checkDaemon } from "../../../src/system/doctor/daemon.ts";
import { checkTuningFiles } from "../../../src/system/doctor/files.ts";
import { checkFrr } from "../../../src/system/doctor/frr.ts";
import { checkIpvs, checkLibnl, checkSchedulers } from "../../../src/system/doctor/kernel.ts";
import { ModuleIndex } from "../../../src/system/doctor/modules.ts";
import { checkInterfaces, checkVips } from "../../../src/system/doctor/network.ts";
import { exitCodeOf, renderReport, runDoctor } from "../../../src/system/doctor/run.ts";
import { checkForwarding, checkIpvsSysctls } from "../../../src/system/doctor/sysctls.ts";
import type { DoctorContext } from "../../../src/system/doctor/types.ts";
import { frrBlockFor } from "../../../src/system/frr/block.ts";
import { parseIpJson } from "../../../src/system/frr/links.ts";
import { renderModprobeFile, renderModulesLoadFile, renderSysctlFile } from "../../../src/system/sysctl/render.ts";
import { testConfig } from "../support/config.ts";
import { type FakeHost, fakeProbe, sysctls } from "./fake-probe.ts";

const web = [{ name: "web", ports: [80], scheduler: "wrr" }];
const ctx = (host: FakeHost, config = testConfig({ services: web })): DoctorContext => ({ probe: fakeProbe(host), configPath: "/etc/lbctl/config.yaml", config });
const DEP = "/lib/modules/6.1.0-30-amd64/modules.dep";
const statusOf = (results: { name: string; status: string }[]) => Object.fromEntries(results.map((r) => [r.name, r.status]));

describe("modules", () => {
  test("exact names: ip_vs_rr loaded does not make ip_vs loaded; built-in and .ko.xz files count", () => {
    const index = new ModuleIndex({
      procModules: "ip_vs_rr 16384 0 - Live 0x0\nnf_conntrack 1 0 - Live 0x0\n",
      builtin: "kernel/net/netfilter/ipvs/ip_vs.ko\n",
      dep: "kernel/net/netfilter/ipvs/ip_vs_mh.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko.xz\n",
    });
    expect(index.state("ip_vs")).toBe("builtin");
    expect(index.state("ip_vs_rr")).toBe("loaded");
    expect(index.state("ip_vs_mh")).toBe("available");
    expect(index.state("ip_vs_twos")).toBe("missing");
    expect(new ModuleIndex({ procModules: "ip_vs_rr 1 0\n", builtin: "", dep: "" }).state("ip_vs")).toBe("missing");
  });
});

describe("kernel checks", () => {
  test("IPVS answering over netlink passes", () => {
    expect(checkIpvs(ctx({}))[0]).toMatchObject({ status: "pass", message: expect.stringContaining("IPVS 1.2.1") });
  });

  test("no IPVS family with the module on disk: fail, fix modprobe ip_vs", () => {
    const [result] = checkIpvs(ctx({ ipvs: { ok: false, reason: "family", message: "x" }, files: { [DEP]: "kernel/net/netfilter/ipvs/ip_vs.ko.xz:\n" } }));
    expect(result).toMatchObject({ status: "fail", fix: expect.stringContaining("modprobe ip_vs") });
  });

  test("a kernel without IPVS at all: fail naming CONFIG_IP_VS and a kernel that has it", () => {
    const [result] = checkIpvs(ctx({ ipvs: { ok: false, reason: "family", message: "x" }, files: { [DEP]: "kernel/fs/ext4/ext4.ko:\n" } }));
    expect(result!.status).toBe("fail");
    expect(result!.message).toContain("CONFIG_IP_VS is not set");
    expect(result!.fix).toContain("kernel built with IPVS");
  });

  test("ip_vs loaded but its netlink family silent (a container): no modprobe, which would change nothing", () => {
    const [result] = checkIpvs(ctx({ ipvs: { ok: false, reason: "family", message: "x" }, files: { "/proc/modules": "ip_vs 176128 0 - Live 0x0\n", [DEP]: "kernel/net/netfilter/ipvs/ip_vs.ko.xz:\n" } }));
    expect(result).toMatchObject({ status: "fail", message: expect.stringContaining("ip_vs is in kernel 6.1.0-30-amd64, but its netlink family does not answer here") });
    expect(result!.fix).not.toContain("modprobe");
  });

  test("libnl missing: fail with the package names", () => {
    expect(checkLibnl(ctx({ libnlError: "libnl-genl-3.so.200: cannot open" }))[0]).toMatchObject({ status: "fail", fix: expect.stringContaining("libnl-genl-3-200") });
  });

  test("twos on a Debian 12 kernel: fail saying the kernel lacks it; others pass", () => {
    const config = testConfig({ services: [{ name: "a", ports: [1], scheduler: "twos" }, { name: "b", ports: [2], scheduler: "mh" }] });
    const results = checkSchedulers(ctx({ files: { [DEP]: "kernel/net/netfilter/ipvs/ip_vs_mh.ko.xz: x\n" } }, config));
    expect(statusOf(results)).toEqual({ "scheduler mh": "pass", "scheduler twos": "fail" });
    expect(results.find((r) => r.name === "scheduler twos")!.message).toContain("Debian 12's kernel lacks it");
  });
});

describe("network checks", () => {
  const net = (name: string, flags: string, carrier: string, operstate: string) => ({
    [`/sys/class/net/${name}/flags`]: `${flags}\n`,
    [`/sys/class/net/${name}/carrier`]: `${carrier}\n`,
    [`/sys/class/net/${name}/operstate`]: `${operstate}\n`,
  });

  test("admin down, no carrier, missing, and up", () => {
    const config = testConfig({ main: { network: { backend: { interface: "eth1" } } }, services: web });
    expect(statusOf(checkInterfaces(ctx({ files: { ...net("eth0", "0x1003", "1", "up"), ...net("eth1", "0x1002", "", "down") } }, config)))).toEqual({ "interface frontend": "pass", "interface backend": "fail" });
    const noCarrier = checkInterfaces(ctx({ files: { ...net("eth0", "0x1003", "0", "down") } }, config));
    expect(noCarrier[0]!.message).toContain("no carrier");
    expect(noCarrier[1]).toMatchObject({ status: "fail", message: expect.stringContaining("eth1 (network.backend.interface) does not exist") });
  });

  test("VIP meaning by role: primary without it warns, secondary without it passes, protodown is not holding", () => {
    const vrrp = { vrid: 50 };
    const primary = testConfig({ main: { vrrp }, services: web });
    const secondary = testConfig({ main: { vrrp, node: { role: "secondary" } }, services: web });
    expect(checkVips(ctx({ addresses: [] }, primary))[0]!.status).toBe("warn");
    expect(checkVips(ctx({ addresses: ["192.0.2.10"] }, primary))[0]!.status).toBe("pass");
    expect(checkVips(ctx({ addresses: [] }, secondary))[0]!.status).toBe("pass");
    expect(checkVips(ctx({ addresses: ["192.0.2.10"] }, secondary))[0]!.status).toBe("warn");
    const links = parseIpJson(JSON.stringify([{ ifname: "vrrp4-2-50", flags: ["UP", "LOWER_UP"], proto_down: true, addr_info: [{ local: "192.0.2.10", prefixlen: 32 }] }]));
    const dormant = checkVips(ctx({ addresses: ["192.0.2.10"], links }, primary))[0]!;
    expect(dormant.status).toBe("warn");
    expect(dormant.message).toContain("protodown");
  });
});

describe("sysctl checks", () => {
  test("NAT without ip_forward fails; DR does not need it", () => {
    expect(checkForwarding(ctx({ files: sysctls({ "net.ipv4.ip_forward": "0" }) }))[0]).toMatchObject({ status: "fail", fix: expect.stringContaining("sysctl -w net.ipv4.ip_forward=1") });
    expect(checkForwarding(ctx({}, testConfig({ main: { mode: "dr" }, services: web })))[0]!.status).toBe("pass");
  });

  const vs = (values: Record<string, string>) => sysctls({ "net.ipv4.vs.conn_reuse_mode": "1", "net.ipv4.vs.conntrack": "1", "net.ipv4.vs.expire_nodest_conn": "1", "net.ipv4.vs.expire_quiescent_template": "1", ...values });

  test("conn_reuse_mode: warned before 5.9 with conntrack, fine from 5.9, 0 always warned", () => {
    const old = checkIpvsSysctls(ctx({ release: "5.4.0-150-generic", files: vs({}) }));
    expect(old.find((r) => r.name === "net.ipv4.vs.conn_reuse_mode")).toMatchObject({ status: "warn", message: expect.stringContaining("before 5.9") });
    expect(statusOf(checkIpvsSysctls(ctx({ release: "6.1.0-30-amd64", files: vs({}) })))["net.ipv4.vs.conn_reuse_mode"]).toBe("pass");
    expect(statusOf(checkIpvsSysctls(ctx({ files: vs({ "net.ipv4.vs.conn_reuse_mode": "0" }) })))["net.ipv4.vs.conn_reuse_mode"]).toBe("warn");
  });

  test("expire_nodest_conn 0 warns; expire_quiescent_template only matters with persistence; conntrack with NAT", () => {
    const plain = statusOf(checkIpvsSysctls(ctx({ files: vs({ "net.ipv4.vs.expire_nodest_conn": "0", "net.ipv4.vs.expire_quiescent_template": "0", "net.ipv4.vs.conntrack": "0" }) })));
    expect(plain).toMatchObject({ "net.ipv4.vs.expire_nodest_conn": "warn", "net.ipv4.vs.expire_quiescent_template": "pass", "net.ipv4.vs.conntrack": "warn" });
    const persistent = testConfig({ services: [{ name: "p", ports: [1], persistence: { timeout_seconds: 60 } }] });
    expect(statusOf(checkIpvsSysctls(ctx({ files: vs({ "net.ipv4.vs.expire_quiescent_template": "0" }) }, persistent)))["net.ipv4.vs.expire_quiescent_template"]).toBe("warn");
  });

  test("without ip_vs loaded: one warning (the ipvs check fails for it), with the ipvs check's fix", () => {
    const onDisk = ctx({ files: { [DEP]: "kernel/net/netfilter/ipvs/ip_vs.ko.xz:\n" } });
    expect(checkIpvsSysctls(onDisk)).toEqual([expect.objectContaining({ status: "warn", fix: expect.stringContaining("modprobe ip_vs") })]);
    // No module to load (a kernel without IPVS): modprobe would fail, so it is not what doctor suggests first.
    const noModule = ctx({ files: { [DEP]: "kernel/fs/ext4/ext4.ko:\n" } });
    expect(checkIpvsSysctls(noModule)).toEqual([expect.objectContaining({ status: "warn", fix: expect.stringMatching(/^boot a kernel built with IPVS/) })]);
    expect(checkIpvsSysctls(noModule)[0]!.fix).toBe(checkIpvs(ctx({ ipvs: { ok: false, reason: "family", message: "x" }, files: { [DEP]: "kernel/fs/ext4/ext4.ko:\n" } }))[0]!.fix);
  });

  test("a wrong ip_forward is reported once: by its own check, not again among the profile's values", () => {
    const config = testConfig({ services: web });
    const host = { files: sysctls({ "net.ipv4.ip_forward": "0", "net.core.netdev_max_backlog": "1000" }) };
    expect(checkForwarding(ctx(host, config))).toEqual([expect.objectContaining({ name: "net.ipv4.ip_forward", status: "fail" })]);
    const values = checkTuningFiles(ctx(host, config)).find((r) => r.name === "sysctl values")!;
    expect(values.status).toBe("warn");
    expect(values.message).toContain("net.core.netdev_max_backlog is 1000");
    expect(values.message).not.toContain("ip_forward");
  });

  test("tuning files: in sync passes; a stale conn_tab_bits and a missing scheduler warn", () => {
    const config = testConfig({ services: web });
    const live = sysctls({ "net.ipv4.ip_forward": "1", "net.ipv4.vs.conntrack": "1", "net.ipv4.vs.expire_nodest_conn": "1", "net.ipv4.vs.expire_quiescent_template": "1", "net.netfilter.nf_conntrack_tcp_timeout_established": "900", "net.netfilter.nf_conntrack_max": "262144", "net.core.netdev_max_backlog": "5000" });
    const sysctlText = renderSysctlFile(config, () => true).text;
    const synced = { ...live, "/etc/sysctl.d/99-lbctl.conf": sysctlText, "/etc/modprobe.d/lbctl.conf": renderModprobeFile("balanced"), "/etc/modules-load.d/lbctl.conf": renderModulesLoadFile(config), "/sys/module/ip_vs/parameters/conn_tab_bits": "18\n" };
    expect(checkTuningFiles(ctx({ files: synced }, config)).every((r) => r.status === "pass")).toBe(true);
    const stale = checkTuningFiles(ctx({ files: { ...synced, "/sys/module/ip_vs/parameters/conn_tab_bits": "12\n", "/etc/modules-load.d/lbctl.conf": "ip_vs\n" } }, config));
    expect(statusOf(stale)).toMatchObject({ "modprobe file": "warn", "modules-load file": "warn" });
    expect(stale.find((r) => r.name === "modules-load file")!.message).toContain("ip_vs_wrr");
  });
});

describe("FRR checks", () => {
  test("no vrrp section: warnings, never failures", () => {
    const results = checkFrr(ctx({}));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.status === "warn")).toBe(true);
  });

  test("vrrp configured: FRR missing fails; installed with a stale block fails with lbctl setup frr", () => {
    const config = testConfig({ main: { vrrp: { vrid: 50 } }, services: web });
    expect(checkFrr(ctx({}, config))[0]).toMatchObject({ status: "fail", name: "frr" });
    const block = frrBlockFor(config)!;
    const host: FakeHost = { files: { "/usr/lib/frr/vrrpd": "", "/etc/frr/daemons": "zebra=yes\nvrrpd=yes\n", "/etc/frr/frr.conf": `log syslog\n${block}` }, processes: ["zebra", "vrrpd"], links: [] };
    const synced = statusOf(checkFrr(ctx(host, config)));
    expect(synced).toMatchObject({ frr: "pass", "frr vrrpd": "pass", "frr block": "pass", "frr macvlan ipv4": "fail" });
    host.files!["/etc/frr/frr.conf"] = block.replace("priority 150", "priority 99");
    expect(checkFrr(ctx(host, config)).find((r) => r.name === "frr block")).toMatchObject({ status: "fail", fix: "lbctl setup frr" });
  });
});

describe("daemon and metrics", () => {
  test("daemon down: warn; metrics answering from lbctl: pass; a foreign listener: fail", async () => {
    expect(statusOf(await checkDaemon(ctx({})))).toEqual({ daemon: "warn", metrics: "warn" });
    expect(statusOf(await checkDaemon(ctx({ daemon: true, health: { ok: true, status: 200, body: "ok" }, listener: "lbctl" })))).toEqual({ daemon: "pass", metrics: "pass" });
    const foreign = await checkDaemon(ctx({ daemon: true, health: { ok: true, status: 404, body: "" }, listener: "prometheus" }));
    expect(foreign[1]).toMatchObject({ status: "fail", message: expect.stringContaining("process prometheus") });
  });
});

describe("the report", () => {
  test("an invalid config is one FAIL naming the file, the rest of the checks still run; exit 1", async () => {
    const results = await runDoctor(fakeProbe({}), "/etc/lbctl/config.yaml", { ok: false, code: "invalid", issues: [{ file: "/etc/lbctl/config.yaml", line: 3, column: 1, path: "node.name", message: "required" }] });
    expect(results[0]).toMatchObject({ name: "config", status: "fail", fix: "lbctl validate --config /etc/lbctl/config.yaml" });
    expect(results.map((r) => r.name)).toContain("ipvs");
    expect(exitCodeOf(results)).toBe(1);
    const text = renderReport(results);
    expect(text).toMatch(/^FAIL  config /m);
    expect(text).toContain("fix: lbctl validate");
  });
});
