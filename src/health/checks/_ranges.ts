/** Status-code ranges of `http_status` and `sip_expect_status` (normalised by the config to inclusive pairs). */

import type { StatusRanges } from "../../config/schema/health.ts";

export type { StatusRanges } from "../../config/schema/health.ts";

export function inRanges(code: number, ranges: StatusRanges): boolean {
  for (const [low, high] of ranges) if (code >= low && code <= high) return true;
  return false;
}

/** As an operator would write them: `200-399`, `200, 204`. */
export function formatRanges(ranges: StatusRanges): string {
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(", ");
}
