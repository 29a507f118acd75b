/**
 * Issuing the control plane's PKI in memory (no file I/O): an ECDSA P-256 CA, the primary's server certificate
 * (EKU serverAuth, SANs from its addresses) and one client certificate per secondary (EKU clientAuth). Built with
 * @peculiar/x509 on WebCrypto: this module is imported only by `lbctl setup certs`, so the library never loads in
 * the daemon or any other command.
 */

import { createPrivateKey, KeyObject, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
/** The CA outlives the certificates it issues, so `--add-secondary` works for years. */
export const CA_DAYS = 3650;

export interface IssuedPair {
  certPem: string;
  keyPem: string;
}

export interface Authority {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive, as RFC 5280 asks
  return bytes.toString("hex");
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  // A minute of slack for peers whose clocks are a little behind.
  return { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

async function keyPem(key: CryptoKey): Promise<string> {
  return KeyObject.from(key as unknown as webcrypto.CryptoKey).export({ type: "pkcs8", format: "pem" }) as string;
}

/** A DN attribute value with the characters that would change the DN's meaning escaped (RFC 4514). */
function cn(name: string): string {
  return `CN=${name.replace(/([,+"\\<>;=])/g, "\\$1")}`;
}

export async function createAuthority(name: string, now: Date = new Date()): Promise<Authority & IssuedPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: cn(name),
    ...validity(CA_DAYS, now),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
}

/** An existing CA (ours or the user's own P-256 CA) from its PEM files, to issue more client certificates. */
export async function loadAuthority(certPem: string, caKeyPem: string): Promise<Authority> {
  const cert = new x509.X509Certificate(certPem);
  const pkcs8 = createPrivateKey(caKeyPem).export({ type: "pkcs8", format: "der" });
  const privateKey = (await webcrypto.subtle.importKey("pkcs8", pkcs8, ALGORITHM, false, ["sign"])) as unknown as CryptoKey;
  const publicKey = await cert.publicKey.export(ALGORITHM, ["verify"]);
  return { cert, keys: { privateKey, publicKey } };
}

export type Usage = "server" | "client";

export interface LeafRequest {
  name: string;
  usage: Usage;
  /** DNS names and IP addresses for the subjectAltName. */
  altNames: string[];
  days: number;
}

export async function issueLeaf(authority: Authority, request: LeafRequest, now: Date = new Date()): Promise<IssuedPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([request.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(authority.cert),
  ];
  if (request.altNames.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(request.altNames.map((value) => ({ type: isIP(value) ? "ip" : "dns", value }) as x509.JsonGeneralName), false),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: cn(request.name),
    issuer: authority.cert.subject,
    ...validity(request.days, now),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
}
