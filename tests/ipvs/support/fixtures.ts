/** The service and destination the codec tests encode: tcp:192.0.2.10:80 (rr) and 10.0.0.10:8080 (nat, weight 1). */

import type { DestinationSpec, ServiceKey, ServiceSpec } from "../../../src/ipvs/types.ts";

export const web: ServiceSpec = {
  family: 4,
  protocol: "tcp",
  address: "192.0.2.10",
  port: 80,
  scheduler: "rr",
  flags: 0,
  timeout: 0,
  netmask: 0xffffffff,
  persistenceEngine: "",
};

export const webKey: ServiceKey = { family: 4, protocol: "tcp", address: "192.0.2.10", port: 80 };

export const backend: DestinationSpec = {
  family: 4,
  address: "10.0.0.10",
  port: 8080,
  forward: "nat",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
};

/** A service like `web`, with what a test changes. */
export const serviceSpec = (overrides: Partial<ServiceSpec> = {}): ServiceSpec => ({ ...web, ...overrides });

/** A destination like `backend` at `address`, with what a test changes. */
export const destinationSpec = (address: string, overrides: Partial<DestinationSpec> = {}): DestinationSpec => ({ ...backend, address, ...overrides });

/** The key of a service spec. */
export const keyOf = ({ family, protocol, address, port }: ServiceKey): ServiceKey => ({ family, protocol, address, port });
