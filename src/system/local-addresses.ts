/**
 * The addresses on this host's usable interfaces, read over NETLINK_ROUTE through libnl (the socket) and
 * rtnetlink/addresses.ts (the bytes). One socket, kept open; a link dump and an address dump per call.
 */

import { toArrayBuffer, type Pointer } from "bun:ffi";
import { TransportError } from "../ipvs/errors.ts";
import { bindLibnl, type Libnl } from "../ipvs/transport/native.ts";
import { decodeAddresses, decodeLinks, encodeGetAddresses, encodeGetLinks } from "./rtnetlink/addresses.ts";

const NETLINK_ROUTE = 0;
const MAX_DATAGRAMS = 10_000;

export class LocalAddressReader {
  #socket: Pointer | null = null;
  #seq = Math.floor(Date.now() / 1000) >>> 0;
  readonly #peer = new Uint8Array(12);
  readonly #bufferPointer = new BigUint64Array(1);
  #native: Libnl | undefined;

  /** Addresses on links that can carry traffic now (up, carrier, not protodown), in canonical text form. */
  localAddresses(): Set<string> {
    const usable = new Set<number>();
    this.#dump(encodeGetLinks, (datagram, seq) => {
      const chunk = decodeLinks(datagram, seq);
      for (const index of chunk.usable) usable.add(index);
      return chunk.done;
    });
    const addresses = new Set<string>();
    this.#dump(encodeGetAddresses, (datagram, seq) => {
      const chunk = decodeAddresses(datagram, seq);
      for (const { address, index } of chunk.addresses) if (usable.has(index)) addresses.add(address);
      return chunk.done;
    });
    return addresses;
  }

  #dump(encode: (seq: number, port: number) => Uint8Array, onDatagram: (datagram: Uint8Array, seq: number) => boolean): void {
    const lib = this.#libraries();
    const socket = this.#open();
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const request = encode(seq, lib.nl.nl_socket_get_local_port(socket));
    if (lib.nl.nl_sendto(socket, request, request.length) < 0) {
      this.close();
      throw new TransportError("Asking the kernel for local addresses failed");
    }
    for (let datagrams = 0; datagrams < MAX_DATAGRAMS; datagrams++) {
      const length = lib.nl.nl_recv(socket, this.#peer, this.#bufferPointer, null);
      if (length <= 0) {
        this.close();
        throw new TransportError(`Reading local addresses failed (libnl ${length})`);
      }
      const pointer = this.#bufferPointer[0] ?? 0n;
      let done: boolean;
      try {
        done = onDatagram(new Uint8Array(toArrayBuffer(pointer, 0, length)).slice(), seq);
      } finally {
        lib.libc.free(pointer);
      }
      if (done) return;
    }
    throw new TransportError("The netlink dump did not end");
  }

  close(): void {
    if (this.#socket !== null) this.#libraries().nl.nl_socket_free(this.#socket);
    this.#socket = null;
  }

  #open(): Pointer {
    if (this.#socket !== null) return this.#socket;
    const lib = this.#libraries();
    const socket = lib.nl.nl_socket_alloc() as Pointer | null;
    if (socket === null) throw new TransportError("libnl could not allocate a socket");
    const result = lib.nl.nl_connect(socket, NETLINK_ROUTE);
    if (result < 0) {
      lib.nl.nl_socket_free(socket);
      throw new TransportError(`Opening a NETLINK_ROUTE socket failed (libnl ${result})`);
    }
    lib.nl.nl_socket_disable_msg_peek(socket);
    lib.nl.nl_socket_set_msg_buf_size(socket, 64 * 1024);
    this.#socket = socket;
    return socket;
  }

  #libraries(): Libnl {
    this.#native ??= bindLibnl();
    return this.#native;
  }
}
