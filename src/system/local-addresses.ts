/**
 * The addresses on this host's usable interfaces, read over NETLINK_ROUTE through libnl (the socket) and
 * rtnetlink/addresses.ts (the bytes). One socket, kept open; a link dump and an address dump per call.
 */

import { decodeAddresses, decodeLinks, encodeGetAddresses, encodeGetLinks } from "./rtnetlink/addresses.ts";
import { RtnetlinkSocket } from "./rtnetlink-socket.ts";

export class LocalAddressReader {
  readonly #socket = new RtnetlinkSocket("local addresses");

  /** Addresses on links that can carry traffic now (up, carrier, not protodown), in canonical text form. */
  localAddresses(): Set<string> {
    const usable = new Set<number>();
    this.#socket.dump(encodeGetLinks, (datagram, seq) => {
      const chunk = decodeLinks(datagram, seq);
      for (const index of chunk.usable) usable.add(index);
      return chunk.done;
    });
    const addresses = new Set<string>();
    this.#socket.dump(encodeGetAddresses, (datagram, seq) => {
      const chunk = decodeAddresses(datagram, seq);
      for (const { address, index } of chunk.addresses) if (usable.has(index)) addresses.add(address);
      return chunk.done;
    });
    return addresses;
  }

  close(): void {
    this.#socket.close();
  }
}
