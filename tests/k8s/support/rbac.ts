/**
 * The RBAC manifest of docs/kubernetes.md, read from the page, and the verb of each request the fake API server saw,
 * so tests prove that lbctl needs exactly the verbs the page grants: no request outside them, none granted unused.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

export interface Grant {
  group: string;
  resource: string;
  verb: string;
}

/** Every (apiGroup, resource, verb) the ClusterRole and Role of docs/kubernetes.md grant. */
export function documentedGrants(): Grant[] {
  const page = readFileSync(join(import.meta.dir, "../../../docs/kubernetes.md"), "utf8");
  const block = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((text) => text.includes("kind: ClusterRole\n"));
  if (!block) throw new Error("docs/kubernetes.md has no RBAC manifest");
  const grants: Grant[] = [];
  for (const doc of parseAllDocuments(block)) {
    const object = doc.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
    if (object.kind !== "ClusterRole" && object.kind !== "Role") continue;
    for (const rule of object.rules ?? []) {
      for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) grants.push({ group, resource, verb });
    }
  }
  return grants;
}

/** The API group, resource (with subresource) and verb of one request, as the API server's authorizer sees it. */
export function requestGrant(method: string, path: string): Grant {
  const url = new URL(path, "https://x");
  const parts = url.pathname.split("/").filter(Boolean);
  // /api/v1/... or /apis/GROUP/VERSION/...
  const group = parts[0] === "api" ? "" : parts[1]!;
  let rest = parts.slice(parts[0] === "api" ? 2 : 3);
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
  const verb =
    method === "GET" ? (watch ? "watch" : name ? "get" : "list") : method === "POST" ? "create" : method === "PUT" ? "update" : method === "PATCH" ? "patch" : method.toLowerCase();
  return { group, resource: sub ? `${resource}/${sub}` : resource!, verb };
}

export function key(grant: Grant): string {
  return `${grant.group}/${grant.resource}:${grant.verb}`;
}
