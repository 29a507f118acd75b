/** Errors name the file lbctl opened, the line:column and the key path within that file. */

import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { configTree } from "../support/config-tree.ts";

const services = `services:
  - name: web
    ports: [80]
    backends:
      - address: 10.0.0.1
      - address: 10.0.0.2
        weight: -5
`;

test("a schema error points at the value", () => {
  const tree = configTree({ services: { "web.yaml": services } });
  try {
    const result = loadConfig(tree.main);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      {
        file: tree.path("config.d/web.yaml"),
        line: 7,
        column: 17,
        path: "services[0].backends[1].weight",
        message: "must be an integer from 0 to 65535, got -5",
      },
    ]);
  } finally {
    tree.remove();
  }
});

test("an unknown key points at the key", () => {
  const tree = configTree({ services: { "web.yaml": services.replace("weight: -5", "wieght: 5") } });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected an error");
    expect(result.issues[0]).toMatchObject({ line: 7, column: 9, path: "services[0].backends[1].wieght" });
    expect(result.issues[0]!.message).toContain('did you mean "weight"');
  } finally {
    tree.remove();
  }
});

test("a missing key points at its parent mapping", () => {
  const tree = configTree({ main: "node: { name: a }\nnetwork:\n  frontend:\n    interface: eth0\n" });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected an error");
    expect(result.issues[0]).toMatchObject({ line: 4, column: 5, path: "network.frontend.vip", message: '"vip" is required' });
  } finally {
    tree.remove();
  }
});

test("a YAML syntax error reports the first error only, with its position", () => {
  const tree = configTree({ services: { "bad.yaml": "services:\n  - name: web\n    ports: [80\n    scheduler: rr\n" } });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected an error");
    expect(result.code).toBe("invalid");
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.file).toBe(tree.path("config.d/bad.yaml"));
    expect(result.issues[0]!.message).toStartWith("YAML syntax error:");
    expect(result.issues[0]!.line).toBeGreaterThan(0);
  } finally {
    tree.remove();
  }
});

test("duplicate keys are an error", () => {
  const tree = configTree({ services: { "dup.yaml": "services:\n  - name: web\n    ports: [80]\n    ports: [81]\n" } });
  try {
    const result = loadConfig(tree.main);
    expect(!result.ok && result.issues[0]!.message).toContain("unique");
  } finally {
    tree.remove();
  }
});

test("errors in several files are all reported", () => {
  const tree = configTree({
    services: {
      "a.yaml": "services:\n  - name: a\n    ports: [0]\n",
      "b.yaml": "services:\n  - name: b\n    ports: [80]\n    scheduler: nope\n",
    },
  });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected errors");
    expect(result.issues.map((i) => [i.file, i.path])).toEqual([
      [tree.path("config.d/a.yaml"), "services[0].ports[0]"],
      [tree.path("config.d/b.yaml"), "services[0].scheduler"],
    ]);
  } finally {
    tree.remove();
  }
});

test("a missing main file is 'unreadable' (exit 2), not 'invalid'", () => {
  const result = loadConfig("/nonexistent/lbctl/config.yaml");
  expect(result.ok).toBe(false);
  expect(!result.ok && result.code).toBe("unreadable");
  expect(!result.ok && result.issues[0]!.message).toContain("does not exist");
});

test("YAML merge keys work", () => {
  const tree = configTree({
    services: { "m.yaml": "defaults: &backend { port: 0, weight: 2 }\n" },
  });
  try {
    tree.write("config.d/m.yaml", "services:\n  - name: web\n    ports: [80]\n    backends:\n      - <<: { port: 0, weight: 2 }\n        address: 10.0.0.1\n");
    const result = loadConfig(tree.main);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.services[0]!.backends[0]).toEqual({ address: "10.0.0.1", port: 0, weight: 2 });
  } finally {
    tree.remove();
  }
});

test("notices on a valid config carry their position", () => {
  const tree = configTree({ main: "mode: dr\nnode: { name: a }\nnetwork:\n  frontend:\n    vip: 192.0.2.10\n" });
  try {
    const result = loadConfig(tree.main);
    expect(result.ok && result.notices[0]).toMatchObject({ line: 1, column: 7, path: "mode" });
  } finally {
    tree.remove();
  }
});
