/** How a plan reads: terraform-like lines for people, the JSON objects of cli.md for programs. */

import type { Change } from "./changes.ts";
import { ServiceFlag } from "../ipvs/types.ts";

export type ChangeJson = Record<string, unknown> & { op: Change["op"]; service: string };

export function changeToJson(change: Change): ChangeJson {
  const json: ChangeJson = { op: change.op, service: change.service };
  if (change.destination) json.destination = change.destination;
  if (change.name) json.name = change.name;
  const after = change.after;
  if (change.op === "create-service" || change.op === "update-service") {
    json.scheduler = after?.scheduler;
    json.persistent = ((after?.flags ?? 0) & ServiceFlag.persistent) !== 0;
    if (json.persistent) json.persistence_timeout = after?.timeout;
  }
  if (change.op === "create-destination" || change.op === "update-destination") {
    json.weight = after?.weight;
    json.forward = after?.forward;
  }
  if (change.op === "update-service" && change.before) {
    json.from = {
      scheduler: change.before.scheduler,
      persistent: ((change.before.flags ?? 0) & ServiceFlag.persistent) !== 0,
      persistence_timeout: change.before.timeout,
    };
  }
  if (change.op === "update-destination" && change.before) json.from = { weight: change.before.weight, forward: change.before.forward };
  if (change.op !== "create-service" && change.op !== "create-destination") json.reason = change.reason;
  return json;
}

const SIGN: Record<Change["op"], string> = {
  "create-service": "+",
  "create-destination": "+",
  "update-service": "~",
  "update-destination": "~",
  "delete-service": "-",
  "delete-destination": "-",
};

export function changeToLine(change: Change): string {
  const sign = SIGN[change.op];
  const name = change.name ? ` (${change.name})` : "";
  const after = change.after;
  const before = change.before;
  switch (change.op) {
    case "create-service":
      return `${sign} service ${change.service}${name} scheduler ${after?.scheduler}${persistence(after?.flags, after?.timeout)}`;
    case "update-service":
      return `${sign} service ${change.service}${name} scheduler ${before?.scheduler}${persistence(before?.flags, before?.timeout)} -> ${after?.scheduler}${persistence(after?.flags, after?.timeout)}`;
    case "delete-service":
      return `${sign} service ${change.service}${name}`;
    case "create-destination":
      return `${sign}   destination ${change.destination} of ${change.service} weight ${after?.weight} ${after?.forward}`;
    case "update-destination":
      return `${sign}   destination ${change.destination} of ${change.service} weight ${before?.weight} ${before?.forward} -> ${after?.weight} ${after?.forward}${change.reason === "config" ? "" : ` (${change.reason})`}`;
    case "delete-destination":
      return `${sign}   destination ${change.destination} of ${change.service}`;
  }
}

function persistence(flags: number | undefined, timeout: number | undefined): string {
  return (flags ?? 0) & ServiceFlag.persistent ? ` persistent ${timeout}s` : "";
}

export function summary(changes: readonly Change[]): string {
  const count = (prefix: string) => changes.filter((c) => c.op.startsWith(prefix)).length;
  return `${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete`;
}
