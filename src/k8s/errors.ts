/** Typed errors of the Kubernetes integration: a code for programs, a message for the operator. */

export type K8sErrorCode =
  | "kubeconfig-invalid"
  | "kubeconfig-unreadable"
  | "api-unreachable"
  | "api-status"
  | "api-conflict"
  | "api-gone"
  | "api-protocol";

export class K8sError extends Error {
  constructor(
    readonly code: K8sErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "K8sError";
  }
}
