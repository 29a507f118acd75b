/** The main file (/etc/lbctl/config.yaml): globals only. Defaults and ranges are those of spec/config.md. */

import * as v from "valibot";
import { boolean, choice, choiceOrUnset, integer, interfaceName, ipAddress, objectName, text } from "./primitives.ts";
import { list, section } from "./structure.ts";
import { KubernetesSchema } from "./kubernetes.ts";

export const FORWARD_MODES = ["nat", "dr", "tun"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const absolutePath = (description: string) =>
  text({ pattern: /^\/.*/, expected: "an absolute path", allowEmpty: false, description });

const node = section({
  name: objectName("Name of this director, used in metrics and logs"),
  role: v.optional(choice(["primary", "secondary"], "primary", "primary | secondary: selects the VRRP priority"), "primary"),
});

const network = section({
  frontend: section({
    interface: v.optional(interfaceName("Interface that carries the VIPs")),
    vip: ipAddress("Default virtual IP of every service (IPv4 or IPv6)"),
    cidr: v.optional(integer(1, 128, { description: "Prefix length of the VIP (1-32 for IPv4, 1-128 for IPv6)" })),
  }),
  backend: v.optional(section({ interface: v.optional(interfaceName("Interface towards the backends")) }), {}),
});

const vrrp = section({
  vrid: integer(1, 255, { description: "VRRP virtual router id" }),
  priority_primary: v.optional(
    integer(1, 254, { hint: "255 is reserved for the VRRP address owner (the Go LibraFlux accepted it)" }),
    150,
  ),
  priority_secondary: v.optional(
    integer(1, 254, { hint: "255 is reserved for the VRRP address owner (the Go LibraFlux accepted it)" }),
    100,
  ),
  advert_interval_ms: v.optional(
    integer(10, 40950, {
      multipleOf: 10,
      hint: "this is FRR's VRRP range in milliseconds (the Go LibraFlux accepted any value from 100 and wrote it to FRR in centiseconds)",
    }),
    1000,
  ),
});

/** The kernel's IPVS connection synchronisation (ip_vs_sync): established flows survive a director failover. */
const connectionSync = section({
  enabled: v.optional(boolean(), false),
  interface: v.optional(interfaceName("Interface the sync messages leave and arrive on (default: network.frontend.interface)")),
  sync_id: v.optional(
    integer(0, 255, { description: "Sync id shared by the directors of one pair; a backup ignores other ids (0 accepts any) (default: vrrp.vrid, else 0)" }),
  ),
  mcast_group: v.optional(ipAddress("Multicast group of the sync messages, IPv4 or IPv6"), "224.0.0.81"),
  port: v.optional(integer(1, 65535, { description: "UDP port of the sync messages" }), 8848),
  ttl: v.optional(integer(1, 255, { description: "Multicast TTL of the sync messages" }), 1),
});

const ha = section({
  connection_sync: v.optional(connectionSync, {}),
});

/** BGP scale-out (docs/scale-out.md): every director announces the VIPs it can serve; routers spread flows by ECMP. */
const bgpNeighbor = section({
  address: ipAddress("The router's address (a BGP session per neighbour)"),
  remote_asn: integer(1, 4294967295, { description: "The router's AS number" }),
  password_file: v.optional(absolutePath("File holding the TCP MD5 password of the session (read by lbctl setup frr)")),
  bfd: v.optional(boolean("Detect a dead peer with BFD (needs FRR's bfdd) instead of the hold time"), false),
});

const bgp = section({
  enabled: v.optional(boolean(), false),
  local_asn: v.optional(integer(1, 4294967295, { description: "This director's AS number" })),
  router_id: v.optional(ipAddress("BGP router id (an IPv4 address of this director)")),
  neighbors: v.optional(list(bgpNeighbor, "The routers this director announces its VIPs to"), []),
  announce: v.optional(list(ipAddress(), "VIPs to announce; empty = every managed VIP"), []),
  communities: v.optional(
    list(text({ pattern: /^\d{1,5}:\d{1,5}$/, expected: "a community ASN:VALUE (each 0-65535)", numbers: false }), "Standard communities added to every announcement"),
    [],
  ),
  drain_seconds: v.optional(integer(0, 3600, { description: "SIGTERM: seconds between withdrawing the VIPs and exiting, for the routers to move flows away" }), 5),
  keepalive_seconds: v.optional(integer(1, 65535), 3),
  hold_seconds: v.optional(integer(3, 65535, { description: "A peer silent this long is dead (3 × keepalive is usual)" }), 9),
});

const logging = section({
  console: v.optional(
    section({
      enabled: v.optional(boolean(), true),
      level: v.optional(choice(LOG_LEVELS, "info"), "info"),
      format: v.optional(choice(["text", "json"], "text"), "text"),
    }),
    {},
  ),
  gelf: v.optional(
    section({
      enabled: v.optional(boolean(), false),
      host: v.optional(text(), ""),
      port: v.optional(integer(1, 65535, { zeroMeans: 12201 }), 12201),
      protocol: v.optional(choice(["udp", "tcp"], "udp"), "udp"),
      facility: v.optional(text(), "lbctl"),
    }),
    {},
  ),
});

// Zero ports and empty paths mean the default: the Go LibraFlux only checked these keys when a section was enabled,
// so its files may carry zeroed values in disabled sections.
const metrics = section({
  prometheus: v.optional(
    section({
      enabled: v.optional(boolean(), true),
      bind: v.optional(text({ description: "Listen address: an IP, 0.0.0.0 or :: (empty = all)" }), "127.0.0.1"),
      port: v.optional(integer(1, 65535, { zeroMeans: 9090 }), 9090),
      path: v.optional(text({ pattern: /^\//, expected: "a URL path starting with /", emptyMeans: "/metrics" }), "/metrics"),
    }),
    {},
  ),
  influxdb: v.optional(
    section({
      enabled: v.optional(boolean(), false),
      url: v.optional(text(), ""),
      token: v.optional(text(), ""),
      org: v.optional(text(), ""),
      bucket: v.optional(text(), ""),
      push_interval_seconds: v.optional(integer(1, 3600, { zeroMeans: 30 }), 30),
    }),
    {},
  ),
});

const system = section({
  state_dir: v.optional(absolutePath("Where lbctl records the VIPs it manages"), "/var/lib/lbctl"),
  frr_config: v.optional(absolutePath("FRR configuration file that lbctl setup frr edits"), "/etc/frr/frr.conf"),
  sysctl_file: v.optional(absolutePath("Sysctl file that lbctl setup sysctl writes"), "/etc/sysctl.d/99-lbctl.conf"),
  tuning_profile: v.optional(choice(["minimal", "balanced", "aggressive"], "balanced"), "balanced"),
  lock_idle_timeout_minutes: v.optional(integer(1, 1440, { zeroMeans: 10 }), 10),
  snapshots_kept: v.optional(integer(1, 1000, { description: "Kernel table snapshots kept in state_dir/snapshots (the oldest go first)" }), 20),
});

const daemon = v.pipe(
  section({
  reconcile_interval_ms: v.optional(
    integer(100, 60000, { zeroMeans: 1000, description: "Period of reconciliation and drift repair" }),
    1000,
  ),
  state_cache: v.optional(
    section({
      enabled: v.optional(boolean(), true),
      // 0 or absent: half the reconcile interval, resolved once the interval is known.
      ttl_ms: v.optional(integer(0, 60000, { description: "Cache lifetime; 0 or absent = half the reconcile interval" }), 0),
    }),
    {},
  ),
  stats_collection_interval_cycles: v.optional(integer(1, 3600), 5),
  socket: v.optional(absolutePath("Unix socket of the daemon's local control API (mode 0600)"), "/run/lbctl/lbctl.sock"),
  standby: v.optional(choice(["warm", "cold"], "warm"), "warm"),
  change_limits: v.optional(
    section({
      max_services_deleted: v.optional(integer(0, 1_000_000), 10),
      max_destinations_deleted: v.optional(integer(0, 1_000_000), 50),
    }),
    {},
  ),
  drain: v.optional(
    section({
      enabled: v.optional(boolean("Set a removed backend to weight 0 and delete it once its connections end"), true),
      timeout_seconds: v.optional(
        integer(0, 86400, { description: "Delete a draining backend after this long whatever its connections; 0 = delete at once" }),
        300,
      ),
    }),
    {},
  ),
  }),
  v.transform((daemon) => ({
    ...daemon,
    state_cache: { ...daemon.state_cache, ttl_ms: daemon.state_cache.ttl_ms || Math.floor(daemon.reconcile_interval_ms / 2) },
  })),
);

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

// spec/controlplane.md "Keys": every default and range is the spec's.
const controlPlane = section({
  enabled: v.optional(boolean(), false),
  mode: v.optional(choiceOrUnset(["primary", "secondary"], undefined, "primary | secondary: this node's side of replication (required when enabled)")),
  listen_address: v.optional(text({ description: "Primary: HOST:PORT to listen on, [::]:PORT for IPv6" }), "0.0.0.0:8443"),
  primary_address: v.optional(text({ description: "Secondary: HOST:PORT of the primary (IP or DNS name)" }), ""),
  tls: v.optional(
    section({
      cert: v.optional(text({ description: "This node's certificate (PEM)" }), ""),
      key: v.optional(text({ description: "This node's private key (PEM); must not be readable by group or other" }), ""),
      ca: v.optional(text({ description: "CA certificate(s) (PEM) that peers must chain to" }), ""),
      server_name: v.optional(text({ description: "Secondary: name or IP checked against the primary's SANs (empty = host of primary_address)" }), ""),
      allowed_clients: v.optional(list(text({ allowEmpty: false }), "Primary: client CN or SAN (DNS/IP) values allowed; empty = any certificate from ca"), []),
      pin_sha256: v.optional(
        list(text({ pattern: BASE64_SHA256, expected: "a base64 SHA-256 (44 characters ending in =)", numbers: false }), "Base64 SHA-256 of allowed peers' SubjectPublicKeyInfo; empty = no pinning"),
        [],
      ),
    }),
    {},
  ),
  sync_interval_seconds: v.optional(integer(1, 3600, { zeroMeans: 30 }), 30),
  limits: v.optional(
    section({
      max_message_bytes: v.optional(integer(1024, 268435456, { description: "Longest line on the wire" }), 16777216),
      max_files: v.optional(integer(1, 100000, { description: "Files in one bundle" }), 1000),
      max_updates_per_minute: v.optional(integer(1, 6000, { description: "config.update accepted by a secondary per connection" }), 60),
      max_connections_per_minute: v.optional(integer(1, 6000, { description: "New connections per source address on the primary" }), 30),
      handshake_timeout_ms: v.optional(integer(100, 60000), 5000),
    }),
    {},
  ),
});

export const MainFileSchema = section({
  mode: v.optional(choice(FORWARD_MODES, "nat", "Default forwarding method of every destination"), "nat"),
  node,
  network,
  vrrp: v.optional(vrrp),
  ha: v.optional(ha, {}),
  bgp: v.optional(bgp, {}),
  include: v.optional(text({ allowEmpty: false, numbers: false, expected: "a glob (a string)", description: "Glob of service files, relative to this file" }), "config.d/*.yaml"),
  observability: v.optional(section({ logging: v.optional(logging, {}), metrics: v.optional(metrics, {}) }), {}),
  system: v.optional(system, {}),
  daemon: v.optional(daemon, {}),
  control_plane: v.optional(controlPlane, {}),
  kubernetes: v.optional(KubernetesSchema, {}),
});

export type MainFile = v.InferOutput<typeof MainFileSchema>;
