/**
 * A weight reported by a backend's check (http `http_weight_header`, kube-proxy's count of local endpoints) is the
 * kernel weight of a HEALTHY backend: set on the transition, changed when a later probe reports another weight,
 * kept through a reload that keeps the check, and 0 while UNHEALTHY. Against the in-memory kernel.
 */

import { expect, test } from "bun:test";
import { Controller } from "../../src/daemon/controller.ts";
import { controllerRig } from "../support/controller-rig.ts";
import { service } from "../support/load-helpers.ts";

const HEADER = "X-Load-Balancing-Endpoint-Weight";
const ID = "web/10.0.0.1:80";

test("the reported weight becomes the kernel weight and follows the check; reloads keep it; unhealthy is 0", () => {
  const services = (configuredWeight: number) => {
    const health = { enabled: true, type: "http", port: 10256, http_weight_header: HEADER };
    return [service({ backends: [{ address: "10.0.0.1", weight: configuredWeight }, { address: "10.0.0.2", weight: configuredWeight }], health })];
  };
  const { tree, kernel, health, events, deps, write } = controllerRig(services(1));
  try {
    const controller = Controller.start(deps);
    const weightOf = (address: string) => kernel.rules().find((l) => l.includes(`-r ${address}:80 `))?.replace(/.*-w /, "");
    expect(weightOf("10.0.0.1")).toBe("1");

    health.states.set(ID, "healthy");
    health.reportedWeights.set(ID, 3);
    controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "unknown", to: "healthy", result: { ok: true, reason: "HTTP 200 OK", latencyMs: 1, weight: 3 } });
    expect(weightOf("10.0.0.1")).toBe("3");

    // A later probe of the still-healthy backend reports 5: set at once, from the probe, as the monitor flags it.
    health.reportedWeights.set(ID, 5);
    controller.onProbe({ service: "web", backend: "10.0.0.1:80" }, true);
    expect(weightOf("10.0.0.1")).toBe("5");
    expect(events.ofType("weight-change").at(-1)).toMatchObject({ backend: "10.0.0.1:80", from: 3, to: 5, reason: "health" });
    // A probe that does not flag a change changes nothing.
    const changes = events.kernelChanges().length;
    controller.onProbe({ service: "web", backend: "10.0.0.1:80" }, false);
    expect(events.kernelChanges().length).toBe(changes);

    // A reload (here: the configured weights change, as EndpointSlice counts do) keeps the reported weight.
    write(services(2));
    expect(controller.reload()).toMatchObject({ result: "success" });
    expect(weightOf("10.0.0.1")).toBe("5");
    expect(weightOf("10.0.0.2")).toBe("2");

    health.states.set(ID, "unhealthy");
    controller.onHealthTransition({ service: "web", backend: "10.0.0.1:80", from: "healthy", to: "unhealthy", result: { ok: false, reason: "HTTP 503", latencyMs: 1 } });
    expect(weightOf("10.0.0.1")).toBe("0");
  } finally {
    tree.remove();
  }
});
