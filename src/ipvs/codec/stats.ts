import {
  IPVS_STATS_ATTR_CONNS,
  IPVS_STATS_ATTR_CPS,
  IPVS_STATS_ATTR_INBPS,
  IPVS_STATS_ATTR_INBYTES,
  IPVS_STATS_ATTR_INPKTS,
  IPVS_STATS_ATTR_INPPS,
  IPVS_STATS_ATTR_OUTBPS,
  IPVS_STATS_ATTR_OUTBYTES,
  IPVS_STATS_ATTR_OUTPKTS,
  IPVS_STATS_ATTR_OUTPPS,
} from "../constants.ts";
import type { AttributeCursor } from "../netlink/attributes.ts";
import type { IpvsStats } from "../types.ts";

/**
 * Decodes the nested counters of IPVS_*_ATTR_STATS (mixed u32/u64) or IPVS_*_ATTR_STATS64 (all u64): each counter is
 * read at the width the kernel sent. IPVS_STATS_ATTR_PAD and counters newer than this code are skipped.
 */
export function decodeStats(stats: AttributeCursor): IpvsStats {
  const result: IpvsStats = {
    connections: 0,
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    cps: 0,
    ppsIn: 0,
    ppsOut: 0,
    bpsIn: 0,
    bpsOut: 0,
  };
  while (stats.next()) {
    switch (stats.type) {
      case IPVS_STATS_ATTR_CONNS:
        result.connections = stats.counter();
        break;
      case IPVS_STATS_ATTR_INPKTS:
        result.packetsIn = stats.counter();
        break;
      case IPVS_STATS_ATTR_OUTPKTS:
        result.packetsOut = stats.counter();
        break;
      case IPVS_STATS_ATTR_INBYTES:
        result.bytesIn = stats.counter();
        break;
      case IPVS_STATS_ATTR_OUTBYTES:
        result.bytesOut = stats.counter();
        break;
      case IPVS_STATS_ATTR_CPS:
        result.cps = stats.counter();
        break;
      case IPVS_STATS_ATTR_INPPS:
        result.ppsIn = stats.counter();
        break;
      case IPVS_STATS_ATTR_OUTPPS:
        result.ppsOut = stats.counter();
        break;
      case IPVS_STATS_ATTR_INBPS:
        result.bpsIn = stats.counter();
        break;
      case IPVS_STATS_ATTR_OUTBPS:
        result.bpsOut = stats.counter();
        break;
    }
  }
  return result;
}
