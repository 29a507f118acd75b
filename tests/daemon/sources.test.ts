/**
 * Sources of desired services: the file source, and the merge of several sources where a failing source keeps its
 * last good services and the first source wins every conflict. The controller runs on the merge.
 */

import { describe, expect, test } from "bun:test";
import { stringify } from "yaml";
import { Controller } from "../../src/daemon/controller.ts";
import { fileSource } from "../../src/daemon/sources/files.ts";
import { mergeSources, type NamedLoad } from "../../src/daemon/sources/merge.ts";
import type { ServiceSource, SourceLoad } from "../../src/daemon/sources/source.ts";
import type { LoadedService } from "../../src/config/model.ts";
import { RecordingSink } from "../../src/observability/events.ts";
import { configTree } from "../support/config-tree.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { BASE_MAIN, configFrom, merge, service } from "../support/load-helpers.ts";

const files = configFrom({}, [service({ name: "web", ports: [80] })]);
const fileLoad: SourceLoad = { ok: true, services: files.services, files: files.files, main: files.main, mainFile: files.mainFile };

/** Services as a Kubernetes source would give them (validated, then named `k8s/default/<name>`; "web" kept as is). */
function k8s(...patches: Array<Record<string, unknown>>): LoadedService[] {
  return configFrom({}, patches.map((p) => service(p))).services.map((s, index) => ({
    ...s,
    name: s.name === "web" ? s.name : `k8s/default/${s.name}`,
    source: { file: "kubernetes", index },
  }));
}

const invalid: SourceLoad = { ok: false, code: "invalid", issues: [{ file: "kubernetes", line: 0, column: 0, path: "", message: "the API server did not answer" }] };

describe("merging sources", () => {
  test("services of every source, settings from the first", () => {
    const extra = k8s({ name: "api", ports: [8080] });
    const merged = mergeSources([{ source: "files", load: fileLoad }, { source: "kubernetes", load: { ok: true, services: extra, files: [] } }], new Map());
    expect(merged.ok).toBe(true);
    if (!merged.ok) return;
    expect(merged.config.services.map((s) => s.name)).toEqual(["web", "k8s/default/api"]);
    expect(merged.config.main).toBe(files.main);
    expect(merged.failures).toEqual([]);
  });

  test("a source that fails keeps its last good services; one that never loaded contributes nothing", () => {
    const extra = k8s({ name: "api", ports: [8080] });
    const first = mergeSources([{ source: "files", load: fileLoad }, { source: "kubernetes", load: { ok: true, services: extra, files: [] } }], new Map());
    if (!first.ok) throw new Error("first merge failed");
    const second = mergeSources([{ source: "files", load: fileLoad }, { source: "kubernetes", load: invalid }], first.good);
    expect(second.ok && second.config.services.map((s) => s.name)).toEqual(["web", "k8s/default/api"]);
    expect(second.ok && second.failures).toEqual([{ source: "kubernetes", code: "invalid", issues: invalid.ok ? [] : invalid.issues, keptLastGood: true }]);
    const cold = mergeSources([{ source: "files", load: fileLoad }, { source: "kubernetes", load: invalid }], new Map());
    expect(cold.ok && cold.config.services.map((s) => s.name)).toEqual(["web"]);
    expect(cold.ok && cold.failures[0]!.keptLastGood).toBe(false);
  });

  test("without the first source's settings there is nothing to run", () => {
    const missing: SourceLoad = { ok: false, code: "unreadable", issues: [{ file: "/etc/lbctl/config.yaml", line: 0, column: 0, path: "", message: "the file does not exist" }] };
    const merged = mergeSources([{ source: "files", load: missing }], new Map());
    expect(merged).toMatchObject({ ok: false, failure: { source: "files", code: "unreadable" } });
  });

  test("a later source cannot take a name or a virtual service of an earlier one: its service is left out, located", () => {
    const loads: NamedLoad[] = [
      { source: "files", load: fileLoad },
      { source: "kubernetes", load: { ok: true, services: k8s({ name: "web", ports: [81] }, { name: "clash", ports: ["79-80"] }, { name: "fine", ports: [82] }), files: [] } },
    ];
    const merged = mergeSources(loads, new Map());
    if (!merged.ok) throw new Error("merge failed");
    expect(merged.config.services.map((s) => s.name)).toEqual(["web", "k8s/default/fine"]);
    expect(merged.conflicts.map((c) => [c.file, c.path, c.message])).toEqual([
      ["kubernetes", "services[0]", `service "web" left out: the name "web" is already defined by service "web" (${files.files[1]})`],
      ["kubernetes", "services[1]", `service "k8s/default/clash" left out: a port of tcp:192.0.2.10 is already defined by service "web" (${files.files[1]})`],
    ]);
  });
});

describe("the controller on several sources", () => {
  test("a source's change reaches the kernel on reload; its failure keeps what it programmed", () => {
    const tree = configTree();
    tree.write("config.yaml", stringify(merge(BASE_MAIN, { system: { state_dir: tree.path("state") } })));
    tree.write("config.d/s.yaml", stringify({ services: [service({ name: "web", ports: [80] })] }));
    let next: SourceLoad = { ok: true, services: k8s({ name: "api", ports: [8080] }), files: [] };
    const cluster: ServiceSource = { name: "kubernetes", load: () => next };
    const kernel = new FakeKernel();
    const events = new RecordingSink();
    try {
      const controller = Controller.start({
        sources: [fileSource(tree.main, { env: {} }), cluster],
        ipvs: kernel,
        addresses: { localAddresses: () => new Set(["192.0.2.10"]) },
        health: { sync: () => {}, state: () => undefined, stateAfterSync: () => "unknown" },
        events,
        vipRecord: { read: () => [], write: () => {} },
        now: () => 0,
      });
      const services = () => kernel.rules().filter((l) => l.startsWith("-A"));
      expect(services()).toEqual(["-A tcp:192.0.2.10:80 -s wlc", "-A tcp:192.0.2.10:8080 -s wlc"]);
      next = { ok: true, services: k8s({ name: "api", ports: [8081] }), files: [] };
      expect(controller.reload().result).toBe("success");
      expect(services()).toEqual(["-A tcp:192.0.2.10:80 -s wlc", "-A tcp:192.0.2.10:8081 -s wlc"]);
      // The cluster fails and the files change: the files' change goes in, the cluster keeps its last good service.
      next = invalid;
      tree.write("config.d/s.yaml", stringify({ services: [service({ name: "web", ports: [80], scheduler: "rr" })] }));
      const partial = controller.reload();
      expect(partial.result).toBe("failure");
      expect(partial.result === "failure" && partial.message).toContain("the API server did not answer");
      expect(services()).toEqual(["-A tcp:192.0.2.10:80 -s rr", "-A tcp:192.0.2.10:8081 -s wlc"]);
      expect(events.ofType("config-refused").at(-1)).toMatchObject({ reason: "invalid" });
    } finally {
      tree.remove();
    }
  });
});
