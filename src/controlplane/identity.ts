/**
 * A TLS peer's identity as the control plane judges and records it: subject CN, SANs, SPKI SHA-256 (base64, as
 * `pin_sha256` holds it). Checks of `allowed_clients` and `pin_sha256` are pure functions of that identity.
 */

import { createHash, X509Certificate } from "node:crypto";

export interface PeerIdentity {
  cn: string;
  /** `DNS:name` and `IP:address` entries. */
  sans: string[];
  spkiSha256: string;
  notAfter: Date;
}

export function identityOf(der: Uint8Array): PeerIdentity {
  const cert = new X509Certificate(der);
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? "";
  const sans = (cert.subjectAltName ?? "")
    .split(", ")
    .filter((entry) => entry.startsWith("DNS:") || entry.startsWith("IP Address:"))
    .map((entry) => entry.replace(/^IP Address:/, "IP:"));
  return { cn, sans, spkiSha256: createHash("sha256").update(spki).digest("base64"), notAfter: cert.validToDate };
}

/** `[]` allows any certificate from the CA; else the CN or a DNS/IP SAN must be listed. */
export function clientAllowed(identity: PeerIdentity, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const names = new Set([identity.cn, ...identity.sans.map((san) => san.replace(/^(DNS|IP):/, ""))]);
  return allowed.some((name) => names.has(name));
}

export function pinMatches(identity: PeerIdentity, pins: readonly string[]): boolean {
  return pins.length === 0 || pins.includes(identity.spkiSha256);
}

/** Fields of audit records and logs that name a peer. */
export function peerFields(identity: PeerIdentity | undefined, remote: string): Record<string, string> {
  return identity
    ? { peer_cn: identity.cn, peer_sans: identity.sans.join(","), peer_spki_sha256: identity.spkiSha256, remote_address: remote }
    : { remote_address: remote };
}
