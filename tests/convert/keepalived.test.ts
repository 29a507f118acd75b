/** `lbctl convert keepalived`: the grammar, and one golden conversion per row of issue 14 §3. */

import { describe, expect, test } from "bun:test";
import { ConvertError } from "../../src/convert/issues.ts";
import { parseKeepalived } from "../../src/convert/keepalived/parse.ts";
import { memoryReader } from "../../src/convert/source.ts";
import { convertText, validateWithMain, where } from "./support/convert.ts";

const MAIN = "/etc/keepalived/keepalived.conf";

function converts(text: string, extra: Record<string, string> = {}) {
  const result = convertText("keepalived", text, {}, extra);
  expect(validateWithMain(result.texts)).toEqual([]);
  return result;
}

function error(text: string, extra: Record<string, string> = {}): ConvertError {
  try {
    convertText("keepalived", text, {}, extra);
  } catch (e) {
    if (e instanceof ConvertError) return e;
    throw e;
  }
  throw new Error("expected a ConvertError");
}

describe("grammar", () => {
  test("one directive per line, # and ! comments anywhere, braces attached or alone, quoted words", () => {
    const tree = parseKeepalived(memoryReader(new Map([[MAIN, '! comment\nglobal_defs\n{\n  router_id "LVS one" # trailing\n}\nvirtual_server 10.0.0.1 80{ lb_algo rr ! c\n}\n']])), MAIN).directives;
    expect(tree.map((d) => [d.name, d.args, d.line, d.block?.map((b) => [b.name, b.args, b.line])])).toEqual([
      ["global_defs", [], 2, [["router_id", ["LVS one"], 4]]],
      ["virtual_server", ["10.0.0.1", "80"], 6, [["lb_algo", ["rr"], 6]]],
    ]);
  });
  test("errors name file:line:column and what was expected", () => {
    expect(error("virtual_server 10.0.0.1 80 {\n  lb_algo rr\n").describe()).toBe(`${MAIN}:3:1: unexpected end of file, expecting "}" to close "virtual_server" opened at 1:1`);
    expect(error("}\n").describe()).toBe(`${MAIN}:1:1: unexpected "}": no block is open here`);
    expect(error('router_id "x\n').describe()).toBe(`${MAIN}:1:11: unterminated quoted string, expecting a closing "`);
  });
  test("include: globs relative to the including file, sorted; a loop is named", () => {
    const r = converts("include conf.d/*.conf\n", {
      "/etc/keepalived/conf.d/b.conf": "virtual_server 10.0.0.2 80 {\n real_server 10.1.0.2 80 {\n }\n}\n",
      "/etc/keepalived/conf.d/a.conf": "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n }\n}\n",
    });
    expect(r.services.map((s) => s.vip)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(error("include a.conf\n", { "/etc/keepalived/a.conf": "include keepalived.conf\n" }).message).toBe(`include loop: ${MAIN} includes /etc/keepalived/a.conf includes ${MAIN}`);
  });
});

describe("mapping", () => {
  test("virtual_server IP PORT: lb_algo, lb_kind DR → mode, protocol UDP, persistence_timeout, real_server weights", () => {
    const r = converts(`virtual_server 192.0.2.53 53 {
    delay_loop 10
    lb_algo wrr
    lb_kind DR
    protocol UDP
    persistence_timeout 120
    real_server 10.0.0.1 53 {
        weight 3
    }
    real_server 10.0.0.2 53 {
        weight 0
    }
}`);
    expect(r.services).toEqual([
      {
        name: "vs-192.0.2.53-53-udp",
        protocol: "udp",
        vip: "192.0.2.53",
        ports: [53],
        port_ranges: [],
        scheduler: "wrr",
        mode: "dr",
        persistence: { timeout_seconds: 120 },
        backends: [
          { address: "10.0.0.1", port: 53, weight: 3 },
          { address: "10.0.0.2", port: 53, weight: 0 },
        ],
        health: { enabled: false },
      },
    ]);
    expect(r.texts[0]).toContain("mode: dr  # from lb_kind DR");
  });
  test("TCP_CHECK: delay_loop → interval, connect_timeout → timeout, retry → fail_after, connect_port → port", () => {
    const r = converts(`virtual_server 192.0.2.10 80 {
  delay_loop 6
  lb_algo lc
  protocol TCP
  real_server 10.0.0.1 8080 {
    TCP_CHECK {
      connect_port 8081
      connect_timeout 3
      retry 2
    }
  }
}`);
    expect(r.services[0]!.health).toEqual({ enabled: true, type: "tcp", port: 8081, interval_ms: 6000, timeout_ms: 3000, fail_after: 3, recover_after: 1 });
    expect(r.texts[0]).toContain("weight: 1  # keepalived removed it on failure; lbctl sets weight 0");
    expect(r.warnings).toEqual([]);
  });
  test.each([
    ["HTTP_GET { url { path /health\nstatus_code 200 }\n}", "TCP", { type: "http", http_path: "/health", http_status: "200" }, []],
    ["SSL_GET { url { path /health }\n}", "TCP", { type: "tcp" }, ["SSL_GET becomes a tcp check"]],
    ["DNS_CHECK { type A\nname example.org }", "UDP", { type: "udp_dns", dns_query: "example.org", dns_type: "a" }, []],
    ["UDP_CHECK { payload 0a0b\nrequire_reply 0c }", "UDP", { type: "udp_echo", payload_hex: "0a0b", expect_hex: "0c" }, []],
    ["SMTP_CHECK { }", "TCP", { type: "tcp" }, ["SMTP_CHECK becomes a tcp check"]],
    ["MISC_CHECK { misc_path /bin/true }", "TCP", { enabled: false }, ["MISC_CHECK (a script) is not converted"]],
    ["DNS_CHECK { name example.org }", "TCP", { enabled: false }, ["DNS_CHECK on a TCP virtual server is not converted"]],
  ] as const)("%s on %s", (checker, protocol, health, warnings) => {
    const r = converts(`virtual_server 192.0.2.10 53 {\n protocol ${protocol}\n real_server 10.0.0.1 53 {\n ${checker.replaceAll("{ ", "{\n").replaceAll(" }", "\n}")}\n }\n}\n`);
    expect(r.services[0]!.health).toMatchObject(health);
    expect(r.warnings.map((w) => w.message)).toEqual([...warnings]);
  });
  test("virtual_server_group: one service per VIP, ranges expanded, fwmark entries warned", () => {
    const r = converts(`virtual_server_group web {
  192.0.2.1 80
  192.0.2.1 443
  192.0.2.5-6 80
  fwmark 7
}
virtual_server group web {
  protocol TCP
  real_server 10.0.0.1 80 {
  }
}`);
    expect(r.services.map((s) => [s.name, s.vip, s.ports])).toEqual([
      ["web-192.0.2.1", "192.0.2.1", [80, 443]],
      ["web-192.0.2.5", "192.0.2.5", [80]],
      ["web-192.0.2.6", "192.0.2.6", [80]],
    ]);
    expect(where(r.warnings)).toEqual(["5 fwmark"]);
  });
  test("fwmark, vrrp_instance: warnings that say what to do instead", () => {
    const r = convertText("keepalived", `vrrp_instance VI_1 {
  virtual_router_id 51
}
virtual_server fwmark 1 {
  real_server 10.0.0.1 80 {
  }
}
virtual_server 192.0.2.10 80 {
  protocol TCP
  sorry_server 10.0.0.99 80
  quorum 2
  real_server 10.0.0.1 80 {
  }
}`);
    expect(where(r.warnings)).toEqual(["1 vrrp_instance", "4 virtual_server"]);
    expect(r.warnings[0]!.detail?.[0]).toContain("lbctl setup frr");
    expect(r.services.length).toBe(1);
  });
  test("sorry_server, quorum, hysteresis → sorry_server, quorum, quorum_hysteresis; quorum_up/quorum_down scripts warned", () => {
    const r = converts(`virtual_server 192.0.2.10 80 {
  protocol TCP
  sorry_server 10.0.0.99 8080
  quorum 4
  hysteresis 1
  quorum_up "/usr/local/bin/up.sh"
  quorum_down "/usr/local/bin/down.sh"
  real_server 10.0.0.1 80 {
    weight 2
  }
  real_server 10.0.0.2 80 {
    weight 2
  }
}`);
    expect(r.services[0]).toMatchObject({ quorum: 4, quorum_hysteresis: 1, sorry_server: "10.0.0.99:8080" });
    expect(where(r.warnings)).toEqual(["6 quorum_up", "7 quorum_down"]);
    expect(r.warnings[0]!.message).toBe("quorum_up is not converted");
    expect(r.texts[0]).toContain('sorry_server: "10.0.0.99:8080"  # from sorry_server: added while below quorum');
  });
  test("sorry_server alone uses lbctl's default quorum 1; IPv6 is bracketed; with DR the port becomes the service's", () => {
    const alone = converts("virtual_server 192.0.2.10 80 {\n protocol TCP\n sorry_server 10.0.0.99 80\n real_server 10.0.0.1 80 {\n }\n}\n");
    expect(alone.services[0]!.sorry_server).toBe("10.0.0.99:80");
    expect(alone.services[0]!.quorum).toBeUndefined();
    expect(alone.warnings).toEqual([]);
    const v6 = converts("virtual_server 2001:db8::10 80 {\n protocol TCP\n sorry_server 2001:db8::99 8080\n real_server 2001:db8::1 80 {\n }\n}\n");
    expect(v6.services[0]!.sorry_server).toBe("[2001:db8::99]:8080");
    const dr = converts("virtual_server 192.0.2.10 80 {\n lb_kind DR\n protocol TCP\n sorry_server 10.0.0.99 8080\n real_server 10.0.0.1 80 {\n }\n}\n");
    expect(dr.services[0]!.sorry_server).toBe("10.0.0.99");
    expect(where(dr.warnings)).toEqual(["4 sorry_server"]);
  });
  test("a sorry_server that is a real server or of the other family, and hysteresis not below quorum: warned", () => {
    const r = converts("virtual_server 192.0.2.10 80 {\n protocol TCP\n sorry_server 10.0.0.1 80\n quorum 2\n hysteresis 5\n real_server 10.0.0.1 80 {\n }\n}\n");
    expect(r.services[0]!.sorry_server).toBeUndefined();
    expect(r.services[0]).toMatchObject({ quorum: 2, quorum_hysteresis: 1 });
    expect(r.warnings.map((w) => w.message)).toEqual(["sorry_server 10.0.0.1 80 is also a real server; not converted", "hysteresis 5 is not less than the quorum 2; 1 is used"]);
    const family = converts("virtual_server 192.0.2.10 80 {\n protocol TCP\n sorry_server 2001:db8::99 80\n real_server 10.0.0.1 80 {\n }\n}\n");
    expect(family.services[0]!.sorry_server).toBeUndefined();
    expect(where(family.warnings)).toEqual(["3 sorry_server"]);
  });
  test("inhibit_on_failure (real_server or virtual_server): nothing to write, noted as lbctl's default behaviour", () => {
    for (const text of [
      "virtual_server 192.0.2.10 80 {\n protocol TCP\n real_server 10.0.0.1 80 {\n  inhibit_on_failure\n  TCP_CHECK {\n  }\n }\n}\n",
      "virtual_server 192.0.2.10 80 {\n protocol TCP\n inhibit_on_failure\n real_server 10.0.0.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
    ]) {
      const r = converts(text);
      expect(r.warnings).toEqual([]);
      expect(r.texts[0]).toContain("# inhibit_on_failure: mapped: lbctl's default behaviour");
      expect(r.texts[0]).not.toContain("keepalived removed it on failure");
    }
    const without = converts("virtual_server 192.0.2.10 80 {\n protocol TCP\n real_server 10.0.0.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n");
    expect(without.texts[0]).not.toContain("inhibit_on_failure");
    expect(without.texts[0]).toContain("keepalived removed it on failure; lbctl sets weight 0");
  });
  test("DR with a real_server port other than the service port: warned, forwarded to the service port", () => {
    const r = converts("virtual_server 192.0.2.10 80 {\n lb_kind DR\n protocol TCP\n real_server 10.0.0.1 8080 {\n }\n}\n");
    expect(r.services[0]!.backends).toEqual([{ address: "10.0.0.1", port: 80, weight: 1 }]);
    expect(where(r.warnings)).toEqual(["4 real_server"]);
  });
  test("two virtual servers claiming one (protocol, VIP, port): an error naming both lines", () => {
    expect(error("virtual_server 192.0.2.10 80 {\n protocol TCP\n}\nvirtual_server 192.0.2.10 80 {\n protocol TCP\n}\n").describe()).toBe(`${MAIN}:4:1: two virtual servers claim tcp 192.0.2.10 port 80: ${MAIN}:1 and ${MAIN}:4`);
  });
  test("no protocol: keepalived programs UDP (verified against the kernel in tests/lab/convert.test.ts), so does the conversion, warning", () => {
    const r = converts("virtual_server 192.0.2.10 80 {\n real_server 10.0.0.1 80 {\n }\n}\n");
    expect(r.services[0]!.protocol).toBe("udp");
    expect(r.warnings.map((w) => [w.line, w.directive, w.message])).toEqual([[1, "virtual_server", "no protocol: keepalived programs this virtual server as UDP, and so does the conversion"]]);
  });
  test("persistence_timeout 0 means no persistence", () => {
    const r = converts("virtual_server 192.0.2.10 80 {\n persistence_timeout 0\n}\n");
    expect(r.services[0]!.persistence).toBeUndefined();
  });
});
