/**
 * What `lbctl setup certs` writes, decided before anything is written: file names, names and SANs, and the
 * checks on names and addresses. Pure.
 */

import { isIP } from "node:net";

export interface CertsRequest {
  primary: string;
  primaryAddresses: string[];
  secondaries: string[];
  /** Names to issue from an existing CA (`--add-secondary`): no CA or server certificate is made. */
  addSecondaries: string[];
  days: number;
}

export interface PlannedLeaf {
  name: string;
  usage: "server" | "client";
  altNames: string[];
  certFile: string;
  keyFile: string;
}

export interface CertsPlan {
  newAuthority: boolean;
  leaves: PlannedLeaf[];
}

const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const NODE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class CertsPlanError extends Error {
  override readonly name = "CertsPlanError";
}

export function planCerts(request: CertsRequest): CertsPlan {
  if (!Number.isInteger(request.days) || request.days < 1 || request.days > 36500) throw new CertsPlanError(`--days must be an integer from 1 to 36500, got ${request.days}`);
  for (const name of [request.primary, ...request.secondaries, ...request.addSecondaries]) {
    if (!NODE_NAME.test(name)) throw new CertsPlanError(`"${name}" is not a usable node name: 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
  const clients = (names: string[]): PlannedLeaf[] =>
    names.map((name) => ({ name, usage: "client", altNames: DNS_NAME.test(name) ? [name] : [], certFile: `client-${name}.crt`, keyFile: `client-${name}.key` }));
  if (request.addSecondaries.length > 0) {
    if (request.secondaries.length > 0 || request.primaryAddresses.length > 0) {
      throw new CertsPlanError("--add-secondary issues client certificates from the existing CA only; leave out --secondary and --primary-address");
    }
    return { newAuthority: false, leaves: unique(clients(request.addSecondaries)) };
  }
  if (request.primaryAddresses.length === 0) {
    throw new CertsPlanError("--primary-address is required: the IP or DNS name secondaries use to reach the primary (repeat it for several)");
  }
  for (const address of request.primaryAddresses) {
    if (isIP(address) === 0 && !DNS_NAME.test(address)) throw new CertsPlanError(`--primary-address "${address}" is neither an IP address nor a DNS name`);
  }
  const server: PlannedLeaf = { name: request.primary, usage: "server", altNames: [...new Set(request.primaryAddresses)], certFile: "server.crt", keyFile: "server.key" };
  const secondaries =
    request.secondaries.length > 0
      ? clients(request.secondaries)
      : [{ name: "secondary", usage: "client" as const, altNames: ["secondary"], certFile: "client.crt", keyFile: "client.key" }];
  return { newAuthority: true, leaves: unique([server, ...secondaries]) };
}

function unique(leaves: PlannedLeaf[]): PlannedLeaf[] {
  const seen = new Set<string>();
  for (const leaf of leaves) {
    if (seen.has(leaf.certFile)) throw new CertsPlanError(`"${leaf.name}" is named twice`);
    seen.add(leaf.certFile);
  }
  return leaves;
}
