import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, MINIMAL_MAIN, oneService } from "../support/config-tree.ts";

test("service files load in sorted order, relative to the main file's folder", () => {
  const tree = configTree({
    services: {
      "b.yaml": oneService("ports: [2]", "from-b"),
      "10-a.yaml": oneService("ports: [1]", "from-10-a"),
      "a.yaml": oneService("ports: [3]", "from-a"),
      "ignored.yml": oneService("ports: [4]", "not-matched"),
    },
  });
  try {
    const result = loadConfig(tree.main);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.services.map((s) => s.name)).toEqual(["from-10-a", "from-a", "from-b"]);
    expect(result.config.files).toEqual([tree.main, tree.path("config.d/10-a.yaml"), tree.path("config.d/a.yaml"), tree.path("config.d/b.yaml")]);
  } finally {
    tree.remove();
  }
});

test("an absolute include pattern", () => {
  const tree = configTree();
  try {
    tree.write("elsewhere/x.yaml", oneService("ports: [80]", "abs"));
    tree.write("config.yaml", `${MINIMAL_MAIN}include: ${tree.path("elsewhere")}/*.yaml\n`);
    const result = loadConfig(tree.main);
    expect(result.ok && result.config.services.map((s) => s.name)).toEqual(["abs"]);
  } finally {
    tree.remove();
  }
});

test("no matching file is fine, and so is an empty service file", () => {
  const tree = configTree({ services: { "empty.yaml": "", "comments.yaml": "# nothing yet\n" } });
  try {
    const result = loadConfig(tree.main);
    expect(result.ok && result.config.services).toEqual([]);
  } finally {
    tree.remove();
  }
});

test("a service file holds only `services:`", () => {
  const tree = configTree({ services: { "x.yaml": "services: []\nnode: { name: x }\n" } });
  try {
    const result = loadConfig(tree.main);
    expect(!result.ok && result.issues[0]).toMatchObject({ path: "node", file: tree.path("config.d/x.yaml") });
    expect(!result.ok && result.issues[0]!.message).toContain('unknown key "node"');
  } finally {
    tree.remove();
  }
});

test("a duplicate service name across files names both files", () => {
  const tree = configTree({ services: { "a.yaml": oneService("ports: [1]", "web"), "b.yaml": oneService("ports: [2]", "web") } });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected an error");
    expect(result.issues[0]!.file).toBe(tree.path("config.d/b.yaml"));
    expect(result.issues[0]!.message).toContain(tree.path("config.d/a.yaml"));
  } finally {
    tree.remove();
  }
});

test("the same proto:vip:port in two files names both services and both files", () => {
  const tree = configTree({ services: { "a.yaml": oneService("ports: [80]", "one"), "b.yaml": oneService('ports: ["79-81"]', "two") } });
  try {
    const result = loadConfig(tree.main);
    if (result.ok) throw new Error("expected an error");
    const message = result.issues[0]!.message;
    expect(message).toContain("tcp:192.0.2.10:80");
    expect(message).toContain(`service "one" (${tree.path("config.d/a.yaml")} services[0])`);
    expect(message).toContain(`service "two" (${tree.path("config.d/b.yaml")} services[0])`);
  } finally {
    tree.remove();
  }
});

test("a service file over the size bound is refused unread", () => {
  const tree = configTree({ services: { "big.yaml": `# ${"x".repeat(5 * 1024 * 1024)}\n` } });
  try {
    const result = loadConfig(tree.main);
    expect(!result.ok && result.code).toBe("unreadable");
    expect(!result.ok && result.issues[0]!.message).toContain("limited to");
  } finally {
    tree.remove();
  }
});
