// prom-client's individual default collectors (lib/metrics/*.js): each registers its metrics in `registry`.
// Only the process_* ones are used (spec/metrics.md: some nodejs_* defaults fail promtool).
declare module "prom-client/lib/metrics/processCpuTotal.js" {
  const register: (registry: import("prom-client").Registry, config?: object) => void;
  export default register;
}
declare module "prom-client/lib/metrics/processStartTime.js" {
  const register: (registry: import("prom-client").Registry, config?: object) => void;
  export default register;
}
declare module "prom-client/lib/metrics/osMemoryHeap.js" {
  const register: (registry: import("prom-client").Registry, config?: object) => void;
  export default register;
}
declare module "prom-client/lib/metrics/processOpenFileDescriptors.js" {
  const register: (registry: import("prom-client").Registry, config?: object) => void;
  export default register;
}
declare module "prom-client/lib/metrics/processMaxFileDescriptors.js" {
  const register: (registry: import("prom-client").Registry, config?: object) => void;
  export default register;
}
