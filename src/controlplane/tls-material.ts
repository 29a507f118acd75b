/** The PEM files of `control_plane.tls`, read once per start: this node's certificate and key, and the CA. */

import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { controlPlanePath } from "../config/key-permissions.ts";
import type { MainFile } from "../config/model.ts";

export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
  /** Expiry of this node's certificate and of the (first) CA certificate, for the expiry metric and doctor. */
  expiry: { local: Date; ca: Date };
}

export class TlsMaterialError extends Error {
  override readonly name = "TlsMaterialError";
}

export function readTlsMaterial(mainFile: string, main: MainFile): TlsMaterial {
  const { tls } = main.control_plane;
  const read = (key: "cert" | "key" | "ca") => {
    const path = controlPlanePath(mainFile, tls[key]);
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new TlsMaterialError(`control_plane.tls.${key} ${path} cannot be read: ${(error as Error).message}`);
    }
  };
  const cert = read("cert");
  const key = read("key");
  const ca = read("ca");
  try {
    return { cert, key, ca, expiry: { local: new X509Certificate(cert).validToDate, ca: new X509Certificate(ca).validToDate } };
  } catch (error) {
    throw new TlsMaterialError(`control_plane.tls: a certificate is not valid PEM: ${(error as Error).message}`);
  }
}

/** TLS 1.3 only, both sides present certificates, both verify the peer's chain against the CA. */
export function tlsOptions(material: TlsMaterial) {
  return { cert: material.cert, key: material.key, ca: material.ca, minVersion: "TLSv1.3", maxVersion: "TLSv1.3" } as const;
}
