/** The identity of a health target, and its one string encoding. Pure. */

/** What identifies a health target: one backend key of one service (config.md "Backends and health targets"). */
export interface TargetKey {
  readonly service: string;
  /** `ADDR:PORT` (IPv6 `[ADDR]:PORT`). */
  readonly backend: string;
}

/**
 * A TargetKey as one string, for maps and sets: built only by `targetId`, never split again (code that needs the
 * service or the backend carries the TargetKey).
 */
export type TargetId = string & { readonly __brand: "TargetId" };

/**
 * `<service name>/<backend key>`. A backend key never holds a "/", so this stays one-to-one for service names that
 * do (`k8s/<namespace>/<name>`).
 */
export function targetId(key: TargetKey): TargetId {
  return `${key.service}/${key.backend}` as TargetId;
}
