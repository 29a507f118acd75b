/**
 * A protocol-faithful fake Kubernetes API server for tests: TLS, bearer tokens or client certificates, discovery, list (resourceVersion,
 * label and field selectors, limit/continue), watch (newline-delimited ADDED/MODIFIED/DELETED/BOOKMARK, ERROR 410
 * once compacted), 409 on stale writes, the /status subresource with merge and JSON patch, finalizers and
 * deletionTimestamp, Events, Leases, Nodes, EndpointSlices, and a minimal /openapi/v3 for kubectl. Faults on demand:
 * cut every watch, compact history, refuse every request (the server is "down").
 */

import { makePki, type TestPki } from "./tls.ts";

type Obj = { apiVersion?: string; kind?: string; metadata: Record<string, any>; [key: string]: any };

interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  status: boolean;
}

const RESOURCES: Resource[] = [
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true, status: true },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, status: true },
  { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true, status: false },
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, status: true },
  { group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true, status: false },
  { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true, status: false },
];

interface Change {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Obj;
}

interface Watcher {
  resource: Resource;
  namespace?: string;
  matches: (o: Obj) => boolean;
  send: (line: string) => void;
  close: () => void;
}

export interface FakeApiServerOptions {
  token?: string;
  /**
   * x509 client-certificate authentication instead of tokens: the TLS handshake asks for a client certificate and
   * refuses one not signed by this server's CA (or none), as a kube-apiserver with --client-ca-file does for a
   * client without other credentials. kubeconfig() then carries client-certificate-data/client-key-data.
   */
  clientCertificates?: boolean;
  /** Bookmark period of watches that asked for them. */
  bookmarkMs?: number;
}

export class FakeApiServer {
  readonly pki: TestPki;
  readonly token: string;
  #server: ReturnType<typeof Bun.serve> | undefined;
  #rv = 100;
  #compactedBefore = 0;
  readonly #objects = new Map<string, Map<string, Obj>>();
  readonly #history = new Map<string, Change[]>();
  readonly #watchers = new Set<Watcher>();
  #uid = 0;
  #nodePort = 30000;
  /** Every request served, as `METHOD path?query`, for assertions on what a client wrote. */
  readonly requests: Array<{ method: string; path: string; status: number; body?: string }> = [];
  /** While true, every request gets 503 and watches are cut: the API server is unreachable for the client. */
  down = false;
  /** While true, changes are stored but never announced to watches (a lost event): only a re-list sees them. */
  loseEvents = false;

  constructor(private readonly options: FakeApiServerOptions = {}) {
    this.pki = makePki();
    this.token = options.token ?? "test-token";
  }

  get url(): string {
    return `https://127.0.0.1:${this.#server?.port}`;
  }

  /**
   * Listens on 127.0.0.1 (of the network namespace of the calling thread: a lab test starts it inside the
   * director's namespace, where the daemon runs).
   */
  start(port = 0): this {
    const clientAuth = this.options.clientCertificates ? { ca: this.pki.ca, requestCert: true, rejectUnauthorized: true } : {};
    this.#server = Bun.serve({
      port,
      hostname: "127.0.0.1",
      tls: { cert: this.pki.cert, key: this.pki.key, ...clientAuth },
      idleTimeout: 0,
      fetch: (request) => this.#handle(request),
    });
    return this;
  }

  stop(): void {
    this.cutWatches();
    this.#server?.stop(true);
    this.pki.remove();
  }

  /**
   * A kubeconfig for this server, the CA inline: token auth, or with `clientCertificates` a client certificate
   * for user "lbctl" (inline data, or files when `files` is set, as client-certificate/client-key).
   */
  kubeconfig(options: { files?: boolean } = {}): string {
    const user = this.options.clientCertificates ? this.#certificateUser(options.files ?? false) : [`    token: ${this.token}`];
    return [
      "apiVersion: v1",
      "kind: Config",
      "current-context: fake",
      "contexts:",
      "- name: fake",
      "  context: { cluster: fake, user: fake }",
      "clusters:",
      "- name: fake",
      "  cluster:",
      `    server: ${this.url}`,
      `    certificate-authority-data: ${Buffer.from(this.pki.ca).toString("base64")}`,
      "users:",
      "- name: fake",
      "  user:",
      ...user,
      "",
    ].join("\n");
  }

  #certificateUser(files: boolean): string[] {
    const issued = this.pki.clientCert("lbctl");
    if (files) return [`    client-certificate: ${issued.certFile}`, `    client-key: ${issued.keyFile}`];
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    return [`    client-certificate-data: ${b64(issued.cert)}`, `    client-key-data: ${b64(issued.key)}`];
  }

  // --- direct access for tests (as another client would do) ---

  get resourceVersion(): number {
    return this.#rv;
  }

  objects(plural: string): Obj[] {
    return [...(this.#objects.get(plural)?.values() ?? [])].map((o) => structuredClone(o));
  }

  object(plural: string, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.#objects.get(plural)?.get(`${namespace ?? ""}/${name}`);
    return o ? structuredClone(o) : undefined;
  }

  put(plural: string, object: Obj): Obj {
    const resource = RESOURCES.find((r) => r.plural === plural);
    if (!resource) throw new Error(`unknown resource ${plural}`);
    const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    const existing = this.#objects.get(plural)?.get(key);
    return existing ? this.#store(resource, structuredClone({ ...existing, ...object, metadata: { ...existing.metadata, ...object.metadata } }), "MODIFIED") : this.#create(resource, structuredClone(object));
  }

  remove(plural: string, namespace: string | undefined, name: string): void {
    const resource = RESOURCES.find((r) => r.plural === plural) as Resource;
    this.#delete(resource, `${namespace ?? ""}/${name}`);
  }

  /** Deletes every object of a kind, finalizers or not (a test's clean slate; no API server does this). */
  purge(plural: string): void {
    const resource = RESOURCES.find((r) => r.plural === plural) as Resource;
    for (const object of this.objects(plural)) this.#delete(resource, `${object.metadata.namespace ?? ""}/${object.metadata.name}`, object);
  }

  /** Ends every open watch, as a load balancer in front of the API server or a restart would. */
  cutWatches(): void {
    for (const watcher of [...this.#watchers]) watcher.close();
  }

  /** Forgets the history: a watch from an older resourceVersion gets ERROR 410 Gone. */
  compact(): void {
    this.#compactedBefore = this.#rv + 1;
    for (const list of this.#history.values()) list.length = 0;
  }

  // --- the protocol ---

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method;
    const body = method === "GET" || method === "DELETE" ? undefined : await request.text();
    const response = await this.#route(request, url, method, body);
    this.requests.push({ method, path: url.pathname + url.search, status: response.status, ...(body !== undefined ? { body } : {}) });
    return response;
  }

  async #route(request: Request, url: URL, method: string, body: string | undefined): Promise<Response> {
    if (this.down) return status(503, "ServiceUnavailable", "the fake API server is down");
    // With client certificates the TLS handshake has authenticated the client already.
    if (!this.options.clientCertificates && request.headers.get("authorization") !== `Bearer ${this.token}`) return status(401, "Unauthorized", "Unauthorized");
    const path = url.pathname.replace(/\/$/, "");
    if (path === "/version") return json({ major: "1", minor: "32", gitVersion: "v1.32.0-fake", platform: "linux/amd64" });
    if (path === "/api") return json({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: url.host }] });
    if (path === "/apis") return json(this.#groupList());
    if (path === "/openapi/v3") return json({ paths: Object.fromEntries(groupVersions().map((gv) => [gv.path, { serverRelativeURL: `/openapi/v3/${gv.path}?hash=fake` }])) });
    if (path.startsWith("/openapi/v3/")) return json(openApiDocument(path.slice("/openapi/v3/".length)));
    if (path.startsWith("/openapi/v2")) return status(404, "NotFound", "not served");
    const parts = path.split("/").filter(Boolean);
    // /api/v1/... or /apis/GROUP/VERSION/...
    const [group, version, rest] = parts[0] === "api" ? ["", parts[1], parts.slice(2)] : ["" + parts[1], parts[2], parts.slice(3)];
    if (rest.length === 0) return json(this.#resourceList(group, version ?? ""));
    let namespace: string | undefined;
    let i = 0;
    if (rest[0] === "namespaces" && rest.length >= 3) {
      namespace = rest[1];
      i = 2;
    }
    const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === rest[i]);
    if (!resource) return status(404, "NotFound", `the server could not find the requested resource (${path})`);
    const name = rest[i + 1];
    const sub = rest[i + 2];
    if (sub !== undefined && !(sub === "status" && resource.status)) return status(404, "NotFound", `no subresource ${sub}`);
    const query = url.searchParams;
    if (!name) {
      if (method === "GET" && (query.get("watch") === "1" || query.get("watch") === "true")) return this.#watch(resource, namespace, query);
      if (method === "GET") return this.#list(resource, namespace, query);
      if (method === "POST") return this.#post(resource, namespace, body ?? "");
      return status(405, "MethodNotAllowed", `${method} not allowed`);
    }
    const key = `${namespace ?? ""}/${name}`;
    const current = this.#objects.get(resource.plural)?.get(key);
    if (method === "GET") return current ? json(current) : notFound(resource, name);
    if (!current) return notFound(resource, name);
    if (method === "DELETE") return json(this.#delete(resource, key) ?? current);
    let next: Obj;
    try {
      if (method === "PUT") next = JSON.parse(body ?? "{}");
      else if (method === "PATCH") next = applyPatch(current, body ?? "", request.headers.get("content-type") ?? "");
      else return status(405, "MethodNotAllowed", `${method} not allowed`);
    } catch (error) {
      return status(422, "Invalid", `cannot apply the patch: ${(error as Error).message}`);
    }
    const wantRv = next.metadata?.resourceVersion;
    if (method === "PUT" && !wantRv) return status(422, "Invalid", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
    if (wantRv !== undefined && wantRv !== current.metadata.resourceVersion) {
      return status(409, "Conflict", `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    // The status subresource changes status only; the main resource never changes status.
    const merged: Obj = sub === "status" ? { ...current, status: next.status } : { ...next, metadata: { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, deletionTimestamp: current.metadata.deletionTimestamp, namespace: current.metadata.namespace, name: current.metadata.name }, ...(resource.status ? { status: current.status } : {}) };
    if (merged.metadata.deletionTimestamp === undefined) delete merged.metadata.deletionTimestamp;
    if (JSON.stringify(merged) === JSON.stringify(current)) return json(current);
    if (current.metadata.deletionTimestamp && (merged.metadata.finalizers ?? []).length === 0) {
      this.#delete(resource, key, merged);
      return json(merged);
    }
    return json(this.#store(resource, merged, "MODIFIED"));
  }

  #groupList() {
    const groups = [...new Set(RESOURCES.filter((r) => r.group !== "").map((r) => `${r.group}/${r.version}`))].map((gv) => {
      const [name, version] = gv.split("/");
      return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
    });
    return { kind: "APIGroupList", apiVersion: "v1", groups };
  }

  #resourceList(group: string, version: string) {
    const groupVersion = group ? `${group}/${version}` : version;
    const resources = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => [
      { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], ...(SHORT_NAMES[r.plural] ? { shortNames: SHORT_NAMES[r.plural] } : {}) },
      ...(r.status ? [{ name: `${r.plural}/status`, singularName: "", namespaced: r.namespaced, kind: r.kind, verbs: ["get", "patch", "update"] }] : []),
    ]);
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
  }

  #create(resource: Resource, object: Obj): Obj {
    object.apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    object.kind = resource.kind;
    object.metadata.uid = `uid-${++this.#uid}`;
    object.metadata.creationTimestamp ??= new Date(Date.now() + this.#uid).toISOString().replace(/\.\d+Z$/, "Z");
    if (resource.plural === "services") defaultService(object, () => this.#nodePort++);
    return this.#store(resource, object, "ADDED");
  }

  #post(resource: Resource, namespace: string | undefined, body: string): Response {
    let object: Obj;
    try {
      object = JSON.parse(body);
    } catch {
      return status(400, "BadRequest", "the body is not JSON");
    }
    object.metadata ??= {};
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = `${object.metadata.generateName}${(++this.#uid).toString(36)}`;
    if (!object.metadata.name) return status(422, "Invalid", "metadata.name: Required value");
    if (resource.namespaced) object.metadata.namespace = namespace ?? object.metadata.namespace ?? "default";
    const key = `${resource.namespaced ? object.metadata.namespace : ""}/${object.metadata.name}`;
    if (this.#objects.get(resource.plural)?.has(key)) {
      return status(409, "AlreadyExists", `${resource.plural} "${object.metadata.name}" already exists`);
    }
    delete object.metadata.resourceVersion;
    if (resource.status && resource.plural !== "nodes") delete object.status;
    return json(this.#create(resource, object), 201);
  }

  #store(resource: Resource, object: Obj, type: "ADDED" | "MODIFIED"): Obj {
    object.metadata.resourceVersion = String(++this.#rv);
    if (!this.#objects.has(resource.plural)) this.#objects.set(resource.plural, new Map());
    this.#objects.get(resource.plural)?.set(`${object.metadata.namespace ?? ""}/${object.metadata.name}`, object);
    this.#publish(resource, { rv: this.#rv, type, object: structuredClone(object) });
    return object;
  }

  #delete(resource: Resource, key: string, last?: Obj): Obj | undefined {
    const map = this.#objects.get(resource.plural);
    const current = last ?? map?.get(key);
    if (!current || !map) return undefined;
    if (!last && (current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return current;
      return this.#store(resource, { ...current, metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") } }, "MODIFIED");
    }
    map.delete(key);
    const gone = structuredClone(current);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#publish(resource, { rv: this.#rv, type: "DELETED", object: gone });
    return gone;
  }

  #publish(resource: Resource, change: Change): void {
    if (this.loseEvents) return;
    const list = this.#history.get(resource.plural) ?? [];
    list.push(change);
    this.#history.set(resource.plural, list);
    for (const watcher of this.#watchers) {
      if (watcher.resource !== resource) continue;
      if (watcher.namespace && change.object.metadata.namespace !== watcher.namespace) continue;
      if (watcher.matches(change.object)) watcher.send(JSON.stringify({ type: change.type, object: change.object }));
    }
  }

  #select(resource: Resource, namespace: string | undefined, query: URLSearchParams): (o: Obj) => boolean {
    const labels = parseSelector(query.get("labelSelector") ?? "");
    const fields = parseSelector(query.get("fieldSelector") ?? "");
    return (o) =>
      (!namespace || o.metadata.namespace === namespace) &&
      labels.every((term) => term(o.metadata.labels ?? {})) &&
      fields.every((term) => term({ "metadata.name": o.metadata.name, "metadata.namespace": o.metadata.namespace ?? "", "spec.type": o.spec?.type ?? "" }));
  }

  #list(resource: Resource, namespace: string | undefined, query: URLSearchParams): Response {
    const select = this.#select(resource, namespace, query);
    const all = [...(this.#objects.get(resource.plural)?.values() ?? [])].filter(select).sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const limit = Number(query.get("limit") ?? 0);
    let start = 0;
    let listRv = String(this.#rv);
    const token = query.get("continue");
    if (token) {
      const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { rv: string; after: string };
      if (Number(parsed.rv) < this.#compactedBefore) {
        return status(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
      }
      listRv = parsed.rv;
      start = all.findIndex((o) => keyOf(o) > parsed.after);
      if (start < 0) start = all.length;
    }
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const metadata: Record<string, unknown> = { resourceVersion: listRv };
    if (more) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, after: keyOf(items[items.length - 1] as Obj) })).toString("base64");
      metadata.remainingItemCount = all.length - start - limit;
    }
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    return json({ kind: `${resource.kind}List`, apiVersion, metadata, items });
  }

  #watch(resource: Resource, namespace: string | undefined, query: URLSearchParams): Response {
    const matches = this.#select(resource, namespace, query);
    const rvText = query.get("resourceVersion") ?? "";
    const from = rvText === "" || rvText === "0" ? undefined : Number(rvText);
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? 1800);
    const bookmarks = query.get("allowWatchBookmarks") === "true";
    const encoder = new TextEncoder();
    let watcher: Watcher | undefined;
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let open = true;
        let bookmarkTimer: ReturnType<typeof setInterval> | undefined;
        const send = (line: string) => {
          if (open) controller.enqueue(encoder.encode(`${line}\n`));
        };
        const close = () => {
          if (!open) return;
          open = false;
          for (const t of timers) clearTimeout(t);
          clearInterval(bookmarkTimer);
          if (watcher) this.#watchers.delete(watcher);
          try {
            controller.close();
          } catch {
            // Already closed by the client.
          }
        };
        if (from !== undefined && from < this.#compactedBefore - 1) {
          send(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${from} (${this.#compactedBefore - 1})`, reason: "Expired", code: 410 } }));
          close();
          return;
        }
        if (from === undefined) {
          for (const o of this.#objects.get(resource.plural)?.values() ?? []) if (matches(o)) send(JSON.stringify({ type: "ADDED", object: o }));
        } else {
          for (const change of this.#history.get(resource.plural) ?? []) {
            if (change.rv > from && matches(change.object)) send(JSON.stringify({ type: change.type, object: change.object }));
          }
        }
        watcher = { resource, ...(namespace ? { namespace } : {}), matches, send, close };
        this.#watchers.add(watcher);
        bookmarkTimer = bookmarks
          ? setInterval(() => send(JSON.stringify({ type: "BOOKMARK", object: { kind: resource.kind, apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version, metadata: { resourceVersion: String(this.#rv) } } })), this.options.bookmarkMs ?? 1000)
          : undefined;
        timers.push(setTimeout(close, timeoutSeconds * 1000));
      },
      cancel: () => watcher?.close(),
    });
    return new Response(stream, { headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" } });
  }
}

const SHORT_NAMES: Record<string, string[]> = { services: ["svc"], nodes: ["no"], events: ["ev"], namespaces: ["ns"] };

function groupVersions(): Array<{ group: string; version: string; path: string }> {
  const seen = new Map<string, { group: string; version: string; path: string }>();
  for (const r of RESOURCES) {
    const path = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
    seen.set(path, { group: r.group, version: r.version, path });
  }
  return [...seen.values()];
}

/**
 * The OpenAPI v3 document of one group-version as kubectl reads it: a schema per kind, tagged with its
 * group-version-kind. The schemas are open objects: the fake checks no fields, as a server with every field known
 * to the client would accept the objects the tests send.
 */
function openApiDocument(gvPath: string) {
  const gv = groupVersions().find((g) => g.path === gvPath);
  const schemas: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((x) => gv && x.group === gv.group && x.version === gv.version)) {
    // kubectl looks for the kind's PATCH operation and its fieldValidation parameter to validate on the server.
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const operation = { "x-kubernetes-group-version-kind": gvk, parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string" } }], responses: {} };
    const base = `/${gvPath}/${r.namespaced ? "namespaces/{namespace}/" : ""}${r.plural}`;
    paths[base] = { post: operation };
    paths[`${base}/{name}`] = { patch: operation, put: operation };
    const pkg = r.group === "" ? "core" : r.group.split(".")[0];
    schemas[`io.k8s.api.${pkg}.${r.version}.${r.kind}`] = {
      type: "object",
      "x-kubernetes-group-version-kind": [{ group: r.group, kind: r.kind, version: r.version }],
      properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, spec: { type: "object" }, status: { type: "object" } },
    };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0-fake" }, paths, components: { schemas } };
}

function keyOf(o: Obj): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

function defaultService(object: Obj, nextPort: () => number): void {
  const spec = (object.spec ??= {});
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  spec.ipFamilies ??= ["IPv4"];
  for (const port of spec.ports ?? []) {
    port.protocol ??= "TCP";
    if ((spec.type === "LoadBalancer" || spec.type === "NodePort") && !port.nodePort) port.nodePort = nextPort();
  }
  if (spec.type === "LoadBalancer") {
    spec.externalTrafficPolicy ??= "Cluster";
    if (spec.externalTrafficPolicy === "Local" && !spec.healthCheckNodePort) spec.healthCheckNodePort = nextPort();
  }
  object.status = { loadBalancer: {} };
}

/** `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (the equality-based selector syntax). */
function parseSelector(text: string): Array<(values: Record<string, string>) => boolean> {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return (v: Record<string, string>) => v[ne[1]!.trim()] !== ne[2]!.trim();
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return (v: Record<string, string>) => v[eq[1]!.trim()] === eq[2]!.trim();
      if (term.startsWith("!")) return (v: Record<string, string>) => !(term.slice(1) in v);
      return (v: Record<string, string>) => term in v;
    });
}

function mergePatch(target: any, patch: any): any {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function jsonPatch(target: any, operations: Array<{ op: string; path: string; value?: unknown; from?: string }>): any {
  const doc = structuredClone(target);
  for (const { op, path, value } of operations) {
    const keys = path.split("/").slice(1).map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = keys.pop() as string;
    let parent = doc;
    for (const key of keys) {
      if (parent[key] === undefined) throw new Error(`path ${path} does not exist`);
      parent = parent[key];
    }
    if (op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new Error(`test of ${path} failed`);
    } else if (op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op === "add" && Array.isArray(parent)) {
      parent.splice(last === "-" ? parent.length : Number(last), 0, value);
    } else if (op === "add" || op === "replace") {
      parent[last] = value;
    } else {
      throw new Error(`unsupported op ${op}`);
    }
  }
  return doc;
}

function applyPatch(current: Obj, body: string, contentType: string): Obj {
  const patch = JSON.parse(body);
  if (contentType.startsWith("application/json-patch+json")) return jsonPatch(current, patch);
  // Strategic merge patches are treated as merge patches: lbctl's objects have no keyed lists it patches.
  const merged = mergePatch(current, patch);
  // A resourceVersion in the patch is a precondition; without one the write applies to the latest version.
  if (!patch.metadata || patch.metadata.resourceVersion === undefined) merged.metadata.resourceVersion = current.metadata.resourceVersion;
  return merged;
}

function json(body: unknown, code = 200): Response {
  return new Response(JSON.stringify(body), { status: code, headers: { "Content-Type": "application/json" } });
}

function status(code: number, reason: string, message: string): Response {
  return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }, code);
}

function notFound(resource: Resource, name: string): Response {
  return status(404, "NotFound", `${resource.plural} "${name}" not found`);
}
