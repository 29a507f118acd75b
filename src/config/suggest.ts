/** "Did you mean" for unknown keys: edit distance, plus the keys of the Go LibraFlux README schema that never existed. */

const KNOWN_MISTAKES: Readonly<Record<string, string>> = {
  virtual_ip: "vip",
  virtual_port: "ports",
  port: "ports",
  ip: "address",
  host: "address",
  health_check: "health",
  healthcheck: "health",
  retries: "fail_after",
  interval: "interval_ms",
  timeout: "timeout_ms",
  algorithm: "scheduler",
  lb_algo: "scheduler",
  servers: "backends",
  real_servers: "backends",
};

export function suggestKey(unknown: string, allowed: readonly string[]): string | undefined {
  const mistake = KNOWN_MISTAKES[unknown.toLowerCase()];
  if (mistake && allowed.includes(mistake)) return mistake;
  const lower = unknown.toLowerCase();
  const containing = allowed.find((key) => lower.length >= 3 && (key.includes(lower) || lower.includes(key)));
  if (containing) return containing;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(unknown.length / 3)) + 1;
  for (const key of allowed) {
    const distance = editDistance(lower, key.toLowerCase());
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
