/**
 * One NETLINK_ROUTE socket through libnl (the bytes are encoded and decoded in rtnetlink/): dumps, and requests the
 * kernel acknowledges. Kept open between calls; closed after any failure, so a half-read answer never reaches the
 * next call.
 */

import { toArrayBuffer, type Pointer } from "bun:ffi";
import { TransportError } from "../ipvs/errors.ts";
import { bindLibnl, type Libnl } from "../ipvs/transport/native.ts";
import { decodeAcknowledgement } from "./rtnetlink/dump.ts";

const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_GET_STRICT_CHK = 12;
const MAX_DATAGRAMS = 10_000;

export class RtnetlinkSocket {
  #socket: Pointer | null = null;
  #seq = Math.floor(Date.now() / 1000) >>> 0;
  readonly #peer = new Uint8Array(12);
  readonly #bufferPointer = new BigUint64Array(1);
  #native: Libnl | undefined;

  /**
   * @param what names the socket's job in errors ("local addresses", "lbctl's routes").
   * @param strictDumps asks the kernel to filter dumps by the request's fields (NETLINK_GET_STRICT_CHK).
   */
  constructor(
    private readonly what: string,
    private readonly strictDumps = false,
  ) {}

  /**
   * Sends the request `encode` makes and hands each datagram of the answer to `onDatagram` until it returns true
   * (the dump is complete).
   */
  dump(encode: (seq: number, port: number) => Uint8Array, onDatagram: (datagram: Uint8Array, seq: number) => boolean): void {
    const seq = this.#send(encode);
    for (let datagrams = 0; datagrams < MAX_DATAGRAMS; datagrams++) {
      if (this.#receive((datagram) => onDatagram(datagram, seq))) return;
    }
    this.close();
    throw new TransportError(`Reading ${this.what}: the netlink dump did not end`);
  }

  /** Sends one request that carries NLM_F_ACK; returns the kernel's verdict as a positive errno (0: done). */
  request(encode: (seq: number, port: number) => Uint8Array): number {
    const seq = this.#send(encode);
    for (let datagrams = 0; datagrams < MAX_DATAGRAMS; datagrams++) {
      let verdict: number | undefined;
      this.#receive((datagram) => {
        verdict = decodeAcknowledgement(datagram, seq);
        return verdict !== undefined;
      });
      if (verdict !== undefined) return verdict;
    }
    this.close();
    throw new TransportError(`Writing ${this.what}: the kernel did not acknowledge the request`);
  }

  close(): void {
    if (this.#socket !== null) this.#libraries().nl.nl_socket_free(this.#socket);
    this.#socket = null;
  }

  #send(encode: (seq: number, port: number) => Uint8Array): number {
    const lib = this.#libraries();
    const socket = this.#open();
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const request = encode(seq, lib.nl.nl_socket_get_local_port(socket));
    if (lib.nl.nl_sendto(socket, request, request.length) < 0) {
      this.close();
      throw new TransportError(`Asking the kernel for ${this.what} failed`);
    }
    return seq;
  }

  /** Reads one datagram and hands it over; the socket is closed when anything fails. */
  #receive(onDatagram: (datagram: Uint8Array) => boolean): boolean {
    const lib = this.#libraries();
    const socket = this.#open();
    const length = lib.nl.nl_recv(socket, this.#peer, this.#bufferPointer, null);
    if (length <= 0) {
      this.close();
      throw new TransportError(`Reading ${this.what} failed (libnl ${length})`);
    }
    const pointer = this.#bufferPointer[0] ?? 0n;
    try {
      return onDatagram(new Uint8Array(toArrayBuffer(pointer, 0, length)).slice());
    } catch (error) {
      this.close();
      throw error;
    } finally {
      lib.libc.free(pointer);
    }
  }

  #open(): Pointer {
    if (this.#socket !== null) return this.#socket;
    const lib = this.#libraries();
    const socket = lib.nl.nl_socket_alloc() as Pointer | null;
    if (socket === null) throw new TransportError("libnl could not allocate a socket");
    const result = lib.nl.nl_connect(socket, NETLINK_ROUTE);
    if (result < 0) {
      lib.nl.nl_socket_free(socket);
      throw new TransportError(`Opening a NETLINK_ROUTE socket for ${this.what} failed (libnl ${result})`);
    }
    lib.nl.nl_socket_disable_msg_peek(socket);
    lib.nl.nl_socket_set_msg_buf_size(socket, 64 * 1024);
    // Lets the kernel filter a dump by the request's fields (Linux 4.20+); an older kernel sends everything and the
    // decoders filter, so a refusal here changes nothing but the size of the answer.
    if (this.strictDumps) lib.libc.setsockopt(lib.nl.nl_socket_get_fd(socket), SOL_NETLINK, NETLINK_GET_STRICT_CHK, new Int32Array([1]), 4);
    this.#socket = socket;
    return socket;
  }

  #libraries(): Libnl {
    this.#native ??= bindLibnl();
    return this.#native;
  }
}
