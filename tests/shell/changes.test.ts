import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { applyServiceCommand, backendNames, DraftError, newService, type RawService } from "../../src/shell/draft.ts";
import { fileEdits, newServiceFile, servicesInFiles } from "../../src/shell/file-edits.ts";
import { lineDiff } from "../../src/shell/line-diff.ts";
import { markDeleted, NO_CHANGES, renderPending, stage } from "../../src/shell/pending.ts";
import { parseLine } from "../../src/shell/parse.ts";

/** Runs service-mode lines on a draft, as the shell does. */
function edit(service: RawService, ...lines: string[]): RawService {
  let draft = service;
  for (const line of lines) {
    const parsed = parseLine(line, "service");
    if (!parsed.ok) throw new Error(`${line}: ${parsed.message}`);
    draft = applyServiceCommand(draft, parsed);
  }
  return draft;
}

describe("service drafts", () => {
  test("set and unset every kind of key, without writing defaults", () => {
    const draft = edit(
      newService("web"),
      "ports 80,443,8000-8010",
      "port-range 9000-9010",
      "scheduler WRR",
      "protocol udp",
      "no protocol",
      "vip 192.0.2.20",
      "mode dr",
      "persistence 600",
      "backend 10.0.0.1",
      "backend 10.0.0.2:8080 weight 3",
      "backend 10.0.0.1 weight 0",
      "health enabled true",
      "health type http",
      "health interval_ms 500",
      "health http_status 200-299",
      "health expect_rcode noerror,nxdomain",
      "no health expect_rcode",
    );
    expect(draft).toEqual({
      name: "web",
      ports: [80, 443, "8000-8010"],
      port_ranges: [{ start: 9000, end: 9010 }],
      scheduler: "wrr",
      vip: "192.0.2.20",
      mode: "dr",
      persistence: { timeout_seconds: 600 },
      backends: [{ address: "10.0.0.1", weight: 0 }, { address: "10.0.0.2", port: 8080, weight: 3 }],
      health: { enabled: true, type: "http", interval_ms: 500, http_status: "200-299" },
    });
    expect(backendNames(draft)).toEqual(["10.0.0.1", "10.0.0.2:8080"]);
    const trimmed = edit(draft, "no backend 10.0.0.2:8080", "no port-range 9000-9010", "no port-range 8000-8010", "no health", "no vip", "no persistence");
    expect(trimmed).toEqual({ name: "web", ports: [80, 443], scheduler: "wrr", mode: "dr", backends: [{ address: "10.0.0.1", weight: 0 }] });
    expect(draft.backends).toHaveLength(2); // the old draft is untouched
  });

  test("commands that cannot apply say why", () => {
    expect(() => edit(newService("web"), "no backend 10.0.0.9")).toThrow(new DraftError("the service has no backend 10.0.0.9"));
    expect(() => edit(newService("web"), "backend 10.0.0.1", "backend 10.0.0.1")).toThrow('backend 10.0.0.1 exists; give "weight N" to change it');
    expect(() => edit(newService("web"), "no port-range 1-2")).toThrow("no port range 1-2");
    expect(() => edit(newService("web"), "no health")).toThrow("no health block");
  });
});

describe("pending changes", () => {
  const origin = { file: "/c/config.d/web.yaml", index: 0, raw: { name: "web", ports: [80], backends: [{ address: "10.0.0.1" }] } };

  test("show renders new, modified and deleted services as a diff; an edit undone is no change", () => {
    let pending = stage(NO_CHANGES, "web", origin, edit(origin.raw, "backend 10.0.0.2"));
    pending = stage(pending, "api", undefined, edit(newService("api"), "ports 81"));
    pending = markDeleted(pending, "old", { file: "/c/config.d/old.yaml", index: 0, raw: { name: "old", ports: [9] } });
    expect(renderPending(pending).join("\n")).toBe(
      [
        "+ service api (new)",
        "+ - name: api",
        "+   ports:",
        "+     - 81",
        "- service old (deleted from /c/config.d/old.yaml)",
        "- - name: old",
        "-   ports:",
        "-     - 9",
        "~ service web (modified, /c/config.d/web.yaml)",
        "  - name: web",
        "    ports:",
        "      - 80",
        "    backends:",
        "      - address: 10.0.0.1",
        "+     - address: 10.0.0.2",
      ].join("\n"),
    );
    expect(stage(pending, "web", origin, structuredClone(origin.raw)).has("web")).toBe(false);
    expect(markDeleted(pending, "api", undefined).has("api")).toBe(false);
    expect(renderPending(NO_CHANGES)).toEqual(["No pending changes."]);
  });

  test("line diff", () => {
    expect(lineDiff(["a", "b", "c"], ["a", "c", "d"])).toEqual(["  a", "- b", "  c", "+ d"]);
  });
});

describe("file edits", () => {
  const web = "# web services, owned by team A\nservices:\n  - name: web\n    ports: [80]\n  - name: api # the API\n    ports: [81]\n";
  const texts = new Map([
    ["/c/config.d/a.yaml", web],
    ["/c/config.d/old.yaml", "services:\n  - name: old\n    ports: [9]\n"],
  ]);
  const onDisk = servicesInFiles(texts);
  const forNew = (name: string) => `/c/config.d/${name}.yaml`;

  test("each change lands in the file that defines the service; comments elsewhere stay; an emptied file goes", () => {
    let pending = stage(NO_CHANGES, "api", onDisk.get("api"), edit(onDisk.get("api")!.raw, "ports 82"));
    pending = markDeleted(pending, "old", onDisk.get("old"));
    pending = stage(pending, "dns", undefined, edit(newService("dns"), "protocol udp", "ports 53"));
    const { edits, conflicts } = fileEdits(pending, texts, forNew);
    expect(conflicts).toEqual([]);
    expect([...edits.keys()].sort()).toEqual(["/c/config.d/a.yaml", "/c/config.d/dns.yaml", "/c/config.d/old.yaml"]);
    const a = edits.get("/c/config.d/a.yaml")!;
    expect(a).toStartWith("# web services, owned by team A\n");
    // Only the changed key is rewritten: the untouched service and the comment on api's name stay as written.
    expect(a).toContain("  - name: web\n    ports: [80]\n  - name: api # the API\n");
    expect(parse(a)).toEqual({ services: [{ name: "web", ports: [80] }, { name: "api", ports: [82] }] });
    expect(edits.get("/c/config.d/old.yaml")).toBeNull();
    expect(parse(edits.get("/c/config.d/dns.yaml")!)).toEqual({ services: [{ name: "dns", protocol: "udp", ports: [53] }] });
  });

  test("a new service whose file exists joins it; a service changed on disk meanwhile is a conflict", () => {
    const joined = fileEdits(stage(NO_CHANGES, "a", undefined, { name: "a", ports: [1] }), texts, forNew);
    expect(parse(joined.edits.get("/c/config.d/a.yaml")!).services.map((s: { name: string }) => s.name)).toEqual(["web", "api", "a"]);
    const stale = { ...onDisk.get("web")!, raw: { name: "web", ports: [8080] } };
    const conflict = fileEdits(stage(NO_CHANGES, "web", stale, { name: "web", ports: [1] }), texts, forNew);
    expect(conflict.conflicts).toEqual(["service web changed in /c/config.d/a.yaml since this session opened it: abort and edit it again"]);
    expect(conflict.edits.size).toBe(0);
    const exists = fileEdits(stage(NO_CHANGES, "web", undefined, { name: "web" }), texts, forNew);
    expect(exists.conflicts[0]).toContain("service web was created in /c/config.d/a.yaml");
  });

  test("new-service file names from the include pattern", () => {
    expect(newServiceFile("/etc/lbctl/config.d/*.yaml", "web")).toBe("/etc/lbctl/config.d/web.yaml");
    expect(newServiceFile("/etc/lbctl/conf/svc-*.yml", "web")).toBe("/etc/lbctl/conf/svc-web.yml");
    expect(newServiceFile("/etc/lbctl/*/x.yaml", "web")).toBeUndefined();
    expect(newServiceFile("/etc/lbctl/config.d/[ab]*.yaml", "web")).toBeUndefined();
  });
});

describe("config plan", () => {
  test("the kernel changes between two configs", async () => {
    const { configPlan } = await import("../../src/shell/config-plan.ts");
    const { changeToLine } = await import("../../src/plan/render.ts");
    const { configTree, oneService } = await import("../support/config-tree.ts");
    const { loadConfigOrThrow } = await import("../../src/config/load.ts");
    const tree = configTree({ services: { "web.yaml": oneService("ports: [80]\nbackends: [{ address: 10.0.0.1 }]") } });
    try {
      const before = loadConfigOrThrow(tree.main).config;
      tree.write("config.d/web.yaml", oneService("ports: [80, 443]\nbackends: [{ address: 10.0.0.1, weight: 2 }]"));
      const after = loadConfigOrThrow(tree.main).config;
      expect(configPlan(before, after).map(changeToLine)).toEqual([
        "+ service tcp:192.0.2.10:443 (web) scheduler wlc",
        "~   destination 10.0.0.1:80 of tcp:192.0.2.10:80 weight 1 nat -> 2 nat",
        "+   destination 10.0.0.1:443 of tcp:192.0.2.10:443 weight 2 nat",
      ]);
      expect(configPlan(after, after)).toEqual([]);
    } finally {
      tree.remove();
    }
  });
});

test("line diff: a changed line reads as the old one removed, then the new one", () => {
  expect(lineDiff(["a", "x", "c"], ["a", "y", "c"])).toEqual(["  a", "- x", "+ y", "  c"]);
});
