/**
 * Transport over libnl (libnl-3 + libnl-genl-3) through bun:ffi. libnl only opens the socket, resolves the family
 * and moves bytes: every message is encoded and decoded by lbctl itself. The libraries are bound (native.ts) on first
 * use, so a host without them gets LibraryMissingError only when it actually talks to IPVS.
 */

import { type Pointer, toArrayBuffer } from "bun:ffi";
import { IPVS_GENL_NAME } from "../constants.ts";
import { IpvsUnavailableError, TransportError } from "../errors.ts";
import { bindLibnl, type Libnl } from "./native.ts";
import type { Transport } from "./transport.ts";

/** libnl error numbers (netlink/errno.h) that deserve their own message. */
const NLE_AGAIN = 4; // the receive timeout expired
const NLE_NOMEM = 5; // nl_recv reports a receive-queue overflow (ENOBUFS) as this
const NLE_OBJ_NOTFOUND = 12;
const NLE_PERM = 28;

const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_RCVBUFFORCE = 33;
/**
 * The kernel answers netlink requests synchronously, within our own send and receive calls, so waiting longer than
 * this means a reply will never come (a bug, not a slow kernel): fail instead of hanging the daemon.
 */
const RECEIVE_TIMEOUT_SECONDS = 30;
/** Room for several thousand acknowledgements; the kernel caps a dump datagram at 32 KiB, our buffer is twice that. */
const RECEIVE_BUFFER = 8 * 1024 * 1024;
const SEND_BUFFER = 1024 * 1024;
const MESSAGE_BUFFER = 64 * 1024;

export function createLibnlTransport(): Transport {
  return new LibnlTransport();
}

class LibnlTransport implements Transport {
  #socket: Pointer | null = null;
  #family = 0;
  #port = 0;
  #closed = false;
  readonly #peer = new Uint8Array(12); // struct sockaddr_nl
  readonly #bufferPointer = new BigUint64Array(1);
  #received = new Uint8Array(MESSAGE_BUFFER);
  #native: Libnl | undefined;

  familyId(): number {
    this.#open();
    if (this.#family === 0) {
      const lib = this.#libraries();
      const id = lib.genl.genl_ctrl_resolve(this.#socket, new TextEncoder().encode(`${IPVS_GENL_NAME}\0`));
      if (id === -NLE_OBJ_NOTFOUND) throw new IpvsUnavailableError();
      if (id < 0) throw this.#failure("Resolving the IPVS netlink family failed", id);
      this.#family = id;
    }
    return this.#family;
  }

  portId(): number {
    this.#open();
    return this.#port;
  }

  send(messages: Uint8Array): void {
    this.#open();
    const sent = this.#libraries().nl.nl_sendto(this.#socket, messages, messages.length);
    if (sent < 0) throw this.#failure("Sending to the kernel failed", sent);
    if (sent !== messages.length) throw new TransportError(`Sent ${sent} of ${messages.length} bytes to the kernel`);
  }

  receive(): Uint8Array {
    this.#open();
    const lib = this.#libraries();
    const length = lib.nl.nl_recv(this.#socket, this.#peer, this.#bufferPointer, null);
    if (length === -NLE_AGAIN) {
      throw new TransportError(`No reply from the kernel within ${RECEIVE_TIMEOUT_SECONDS} s`, NLE_AGAIN);
    }
    if (length === -NLE_NOMEM) {
      throw new TransportError("Netlink receive queue overflowed: replies were lost, re-read the IPVS table", NLE_NOMEM);
    }
    if (length < 0) throw this.#failure("Receiving from the kernel failed", length);
    if (length === 0) throw new TransportError("Netlink socket returned no data");
    const pointer = this.#bufferPointer[0] ?? 0n;
    try {
      if (this.#received.length < length) this.#received = new Uint8Array(Math.max(length, this.#received.length * 2));
      this.#received.set(new Uint8Array(toArrayBuffer(pointer, 0, length)));
    } finally {
      lib.libc.free(pointer); // nl_recv mallocs a fresh buffer per call
    }
    return this.#received.subarray(0, length);
  }

  close(): void {
    if (this.#socket !== null) this.#libraries().nl.nl_socket_free(this.#socket);
    this.#socket = null;
    this.#closed = true;
  }

  #open(): void {
    if (this.#socket !== null) return;
    if (this.#closed) throw new TransportError("The IPVS netlink socket is closed");
    const lib = this.#libraries();
    const socket = lib.nl.nl_socket_alloc() as Pointer | null;
    if (socket === null) throw new TransportError("Could not allocate a libnl socket");
    const connected = lib.genl.genl_connect(socket);
    if (connected < 0) {
      lib.nl.nl_socket_free(socket);
      throw this.#failure("Opening a generic netlink socket failed", connected);
    }
    // One recvmsg per datagram into a buffer larger than any the kernel sends, instead of libnl's peek-then-read.
    lib.nl.nl_socket_disable_msg_peek(socket);
    lib.nl.nl_socket_set_msg_buf_size(socket, MESSAGE_BUFFER);
    lib.nl.nl_socket_set_buffer_size(socket, RECEIVE_BUFFER, SEND_BUFFER);
    // SO_RCVBUF is capped by net.core.rmem_max; root may exceed it, which keeps large batches from overflowing.
    const fd = lib.nl.nl_socket_get_fd(socket);
    lib.libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, new Int32Array([RECEIVE_BUFFER]), 4);
    // struct timeval { long tv_sec; long tv_usec; } on a 64-bit target.
    const timeout = new BigInt64Array([BigInt(RECEIVE_TIMEOUT_SECONDS), 0n]);
    if (lib.libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16) !== 0) {
      lib.nl.nl_socket_free(socket);
      throw new TransportError("Setting the netlink receive timeout failed");
    }
    this.#socket = socket;
    this.#port = lib.nl.nl_socket_get_local_port(socket);
  }

  #libraries(): Libnl {
    this.#native ??= bindLibnl();
    return this.#native;
  }

  #failure(what: string, code: number): TransportError {
    if (code === -NLE_PERM) return new TransportError(`${what}: need root (CAP_NET_ADMIN)`, NLE_PERM);
    const text = String(this.#libraries().nl.nl_geterror(code));
    return new TransportError(`${what}: ${text}`, -code);
  }
}
