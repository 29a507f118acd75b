/**
 * The only I/O the IPVS client needs: a generic netlink socket that sends our encoded bytes and hands back the
 * kernel's datagrams. The real one is ./libnl.ts; tests use a fake that replays recorded replies.
 */
export interface Transport {
  /** The generic netlink family id of "IPVS"; resolved on first use, then cached. */
  familyId(): number;
  /** This socket's netlink port id, written into nlmsg_pid of requests. */
  portId(): number;
  /** Sends one buffer holding one or more complete netlink messages. */
  send(messages: Uint8Array): void;
  /** Blocks for the next datagram. The view stays valid only until the next call. */
  receive(): Uint8Array;
  close(): void;
}
