/**
 * Transport over libnl (libnl-3 + libnl-genl-3) through bun:ffi. libnl only opens the socket, resolves the family
 * and moves bytes: every message is encoded and decoded by lbctl itself. The libraries are bound (native.ts) on first
 * use, so a host without them gets LibraryMissingError only when it actually talks to IPVS.
 */

import { type Pointer, ptr, read } from "bun:ffi";
import { IPVS_GENL_NAME } from "../constants.ts";
import { IpvsUnavailableError, TransportError } from "../errors.ts";
import { bindLibnl, type Libnl } from "./native.ts";
import type { Transport } from "./transport.ts";

/** libnl error numbers (netlink/errno.h) that deserve their own message. */
const NLE_AGAIN = 4; // the receive timeout expired
const NLE_NOMEM = 5; // a receive-queue overflow (ENOBUFS)
const NLE_OBJ_NOTFOUND = 12;
/** errno values of recvmmsg. */
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
const MSG_TRUNC = 0x20;
const MSG_WAITFORONE = 0x10000;
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
/**
 * Datagrams taken by one receive call. A dump answers in at least two (the entries, then NLMSG_DONE, which the kernel
 * queues while the first is read): one recvmmsg takes both, so reading the table costs a send and a receive per
 * service instead of a send and two receives.
 */
const DATAGRAMS_PER_RECEIVE = 8;
/** struct mmsghdr on a 64-bit target: struct msghdr (56 bytes), then unsigned msg_len, padded to 64. */
const MMSGHDR = 64;
const MSGHDR_NAMELEN = 8;
const MSGHDR_IOV = 16;
const MSGHDR_IOVLEN = 24;
const MSGHDR_FLAGS = 48;
const MMSGHDR_LEN = 56;
const IOVEC = 16;
const SOCKADDR_NL = 12;

export function createLibnlTransport(): Transport {
  return new LibnlTransport();
}

class LibnlTransport implements Transport {
  #socket: Pointer | null = null;
  #family = 0;
  #port = 0;
  #closed = false;
  /** DATAGRAMS_PER_RECEIVE slots of MESSAGE_BUFFER bytes; received datagrams are moved back to back from its start. */
  // Each on an ArrayBuffer of its own, whose memory stays put: the kernel writes to it through the pointers below.
  readonly #slots = new Uint8Array(new ArrayBuffer(DATAGRAMS_PER_RECEIVE * MESSAGE_BUFFER));
  /** The mmsghdr array of recvmmsg, its iovecs and sender addresses, pointing into #slots (set up on open). */
  readonly #headers = new Uint8Array(new ArrayBuffer(DATAGRAMS_PER_RECEIVE * MMSGHDR));
  readonly #headerView = new DataView(this.#headers.buffer);
  readonly #iovecs = new Uint8Array(new ArrayBuffer(DATAGRAMS_PER_RECEIVE * IOVEC));
  readonly #iovecView = new DataView(this.#iovecs.buffer);
  readonly #senders = new Uint8Array(new ArrayBuffer(DATAGRAMS_PER_RECEIVE * SOCKADDR_NL));
  readonly #senderView = new DataView(this.#senders.buffer);
  #fd = -1;
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
    const headers = this.#headerView;
    for (let i = 0; i < DATAGRAMS_PER_RECEIVE; i++) headers.setUint32(i * MMSGHDR + MSGHDR_NAMELEN, SOCKADDR_NL, true);
    let count: number;
    for (;;) {
      // Blocks (up to SO_RCVTIMEO) for one datagram, then takes those already queued without waiting.
      count = lib.libc.recvmmsg(this.#fd, this.#headers, DATAGRAMS_PER_RECEIVE, MSG_WAITFORONE, null);
      if (count >= 0) break;
      const errno = read.i32(lib.libc.__errno_location() as Pointer, 0);
      if (errno === EINTR) continue;
      if (errno === EAGAIN) throw new TransportError(`No reply from the kernel within ${RECEIVE_TIMEOUT_SECONDS} s`, NLE_AGAIN);
      if (errno === ENOBUFS) {
        throw new TransportError("Netlink receive queue overflowed: replies were lost, re-read the IPVS table", NLE_NOMEM);
      }
      throw new TransportError(`Receiving from the kernel failed: errno ${errno}`, errno);
    }
    let length = 0;
    for (let i = 0; i < count; i++) {
      const size = headers.getUint32(i * MMSGHDR + MMSGHDR_LEN, true);
      if ((headers.getInt32(i * MMSGHDR + MSGHDR_FLAGS, true) & MSG_TRUNC) !== 0) {
        throw new TransportError(`A datagram from the kernel exceeded ${MESSAGE_BUFFER} bytes and was cut`);
      }
      if (this.#senderView.getUint32(i * SOCKADDR_NL + 4, true) !== 0) continue; // not from the kernel
      // Back to back, each starting 4-aligned as netlink messages do, so one cursor walks them all.
      if (i * MESSAGE_BUFFER !== length) this.#slots.copyWithin(length, i * MESSAGE_BUFFER, i * MESSAGE_BUFFER + size);
      length += (size + 3) & ~3;
    }
    if (length === 0) throw new TransportError("Netlink socket returned no data");
    return this.#slots.subarray(0, length);
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
    this.#fd = fd;
    this.#port = lib.nl.nl_socket_get_local_port(socket);
    this.#prepareReceive();
  }

  /** Points each mmsghdr at its sender address and its iovec, and each iovec at its slot of #slots. */
  #prepareReceive(): void {
    const slots = ptr(this.#slots);
    const iovecs = ptr(this.#iovecs);
    const senders = ptr(this.#senders);
    const iov = this.#iovecView;
    const headers = this.#headerView;
    for (let i = 0; i < DATAGRAMS_PER_RECEIVE; i++) {
      iov.setBigUint64(i * IOVEC, BigInt(slots + i * MESSAGE_BUFFER), true);
      iov.setBigUint64(i * IOVEC + 8, BigInt(MESSAGE_BUFFER), true);
      const at = i * MMSGHDR;
      headers.setBigUint64(at, BigInt(senders + i * SOCKADDR_NL), true); // msg_name
      headers.setUint32(at + MSGHDR_NAMELEN, SOCKADDR_NL, true);
      headers.setBigUint64(at + MSGHDR_IOV, BigInt(iovecs + i * IOVEC), true);
      headers.setBigUint64(at + MSGHDR_IOVLEN, 1n, true);
    }
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
