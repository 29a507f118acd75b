/**
 * The TCP check's native prober: the syscalls keepalived's TCP_CHECK makes and little else. A probe is a
 * non-blocking socket() and connect() through libc, its answer comes from one epoll set shared by every probe, and
 * the socket is closed as soon as the handshake ends (with a reset) or fails. Bun.connect costs about 1.5× as much
 * CPU per connection as keepalived before any of lbctl's own work (bench/health-keepalived.ts), most of it in the
 * runtime's socket objects and callbacks, which this path does without.
 *
 * Bun's event loop cannot watch a file descriptor it did not open, so the epoll set is polled without blocking
 * (epoll_wait with a zero timeout): once right after the probes a timer wake-up of the scheduler started (a
 * microtask, so one poll serves the whole batch, and a loopback or LAN handshake is usually done by then), then
 * while a probe still waits, every quarter of the age of the youngest probe, between MIN_POLL_MS and MAX_POLL_MS.
 * A latency is therefore exact to about a millisecond for a probe answered within a few milliseconds, and to
 * about a quarter of itself beyond (at most MAX_POLL_MS), while a backend that never answers costs a few dozen
 * polls until its timeout rather than one a millisecond (a wake-up costs milliseconds of CPU in the emulated lab).
 *
 * A connection attempt is closed when its probe aborts (timeout or cancellation): unlike Bun.connect, nothing is
 * left retrying SYNs in the kernel for a backend that never answers.
 */

import { read, type Pointer } from "bun:ffi";
import { parseIPv4Into, parseIPv6Into } from "../../ipvs/address.ts";
import type { TcpSyscalls } from "../../ipvs/transport/native.ts";
import type { Checker, ProbeResult, ProbeTarget } from "../types.ts";
import { aborted, connected, failed } from "./_results.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOCKET_TYPE = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_LINGER = 13;
const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
const EINPROGRESS = 115;

/** Least and most time between two polls while a probe waits for its answer. */
export const MIN_POLL_MS = 1;
export const MAX_POLL_MS = 20;
/** Events read by one epoll_wait; more are read by the next call of the same poll. */
const MAX_EVENTS = 256;
/** An epoll set unused for this long (up to twice as long) is closed (a monitor that stopped probing keeps no descriptor); reopened on use. */
export const IDLE_CLOSE_MS = 10_000;

/**
 * struct epoll_event is packed on x86-64 (12 bytes: events, then the 64-bit data at offset 4) and naturally aligned
 * elsewhere (16 bytes, data at offset 8). Sizes in 32-bit words.
 */
const EVENT_WORDS = process.arch === "x64" ? 3 : 4;
const DATA_WORD = process.arch === "x64" ? 1 : 2;

/** errno values of Linux (asm-generic) as the names describeError turns into reasons. */
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  13: "EACCES",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  97: "EAFNOSUPPORT",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
};

/** What failed() needs: an error with the errno's name as its code. */
function errnoError(errno: number): { code: string } {
  return { code: ERRNO_NAMES[errno] ?? `errno ${errno}` };
}

export class NativeTcpProber implements Checker {
  readonly type = "tcp" as const;
  readonly #sys: TcpSyscalls;
  /** Probes of targets whose address is not an IP literal (a name needs resolving): Bun.connect does that. */
  readonly #other: Checker;
  readonly #errno: Pointer;
  #epoll = -1;
  /** Probes waiting for their answer, by socket descriptor. */
  readonly #waiting: Array<NativeProbe | undefined> = [];
  #pending = 0;
  #pollQueued = false;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #pollDelay = 0;
  /** When the youngest probe started: the poll cadence follows its age. */
  #lastStarted = 0;
  #pollTimerArmed = false;
  /** Probes started since the idle timer was armed: the epoll set is closed only after a whole idle period. */
  #startedSinceIdleCheck = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #idleCloseMs: number;
  readonly #events = new Uint32Array(MAX_EVENTS * EVENT_WORDS);
  readonly #ctl = new Uint32Array(4);
  readonly #linger = new Int32Array([1, 0]);
  readonly #soError = new Int32Array(1);
  readonly #soErrorLength = new Uint32Array([4]);
  /** Each target's sockaddr, built at its first probe; `null` when its address is not an IP literal. */
  readonly #addresses = new WeakMap<ProbeTarget, Uint8Array | null>();
  readonly #watches = new WeakMap<AbortSignal, AbortWatch>();
  readonly #poll = () => {
    this.#pollQueued = false;
    this.#pollTimerArmed = false;
    this.#drain();
  };
  readonly #closeIfIdle = () => {
    this.#idleTimer = undefined;
    if (this.#epoll < 0) return;
    // Checked by count, not by clock (a clock read is an emulated device access in the lab's guest).
    if (this.#pending > 0 || this.#startedSinceIdleCheck > 0) {
      this.#startedSinceIdleCheck = 0;
      this.#armIdleTimer();
      return;
    }
    this.#sys.close(this.#epoll);
    this.#epoll = -1;
  };

  /** Throws when the binding does not work (its first call fails): tcp.ts then falls back to Bun.connect. */
  constructor(sys: TcpSyscalls, other: Checker, idleCloseMs = IDLE_CLOSE_MS) {
    this.#sys = sys;
    this.#other = other;
    this.#idleCloseMs = idleCloseMs;
    const errno = sys.__errno_location();
    if (typeof errno !== "number" || errno === 0) throw new Error("__errno_location returned no address");
    this.#errno = errno as Pointer;
  }

  /** Probes waiting for an answer (tests: none is left once every probe settled). */
  pending(): number {
    return this.#pending;
  }

  /** The open epoll descriptor, -1 when none is open (tests: it closes when idle). */
  epollDescriptor(): number {
    return this.#epoll;
  }

  probe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
    const address = this.#addressOf(target);
    if (address === null) return this.#other.probe(target, signal);
    if (signal.aborted) return Promise.resolve(aborted(signal, target.health.timeout_ms, 0));
    const started = performance.now();
    this.#lastStarted = started;
    if (this.#epoll < 0) {
      this.#epoll = this.#sys.epoll_create1(EPOLL_CLOEXEC);
      if (this.#epoll < 0) return Promise.resolve(failed(errnoError(this.#lastErrno()), 0));
    }
    const fd = this.#sys.socket(address.length === 16 ? AF_INET : AF_INET6, SOCKET_TYPE, 0);
    if (fd < 0) return Promise.resolve(failed(errnoError(this.#lastErrno()), performance.now() - started));
    if (this.#sys.connect(fd, address, address.length) !== 0) {
      const errno = this.#lastErrno();
      if (errno !== EINPROGRESS) {
        this.#sys.close(fd);
        return Promise.resolve(failed(errnoError(errno), performance.now() - started));
      }
    }
    const ctl = this.#ctl;
    ctl[0] = EPOLLOUT;
    ctl[DATA_WORD] = fd;
    ctl[DATA_WORD + 1] = 0;
    if (this.#sys.epoll_ctl(this.#epoll, EPOLL_CTL_ADD, fd, ctl) !== 0) {
      const errno = this.#lastErrno();
      this.#sys.close(fd);
      return Promise.resolve(failed(errnoError(errno), performance.now() - started));
    }
    return new Promise((resolve) => {
      const probe = new NativeProbe(fd, target, signal, started, resolve);
      this.#waiting[fd] = probe;
      this.#pending++;
      this.#startedSinceIdleCheck++;
      AbortWatch.of(signal, this.#watches, this).add(probe);
      if (!this.#pollQueued) {
        this.#pollQueued = true;
        queueMicrotask(this.#poll);
      }
    });
  }

  /** The probe's signal aborted: its connection attempt is closed now, in whatever state it is. */
  abort(probe: NativeProbe): void {
    if (this.#waiting[probe.fd] !== probe) return;
    this.#release(probe);
    this.#sys.close(probe.fd);
    probe.resolve(aborted(probe.signal, probe.target.health.timeout_ms, performance.now() - probe.started));
  }

  /** Reads every answer the epoll set holds, settles those probes, and polls again later while some still wait. */
  #drain(): void {
    if (this.#epoll >= 0 && this.#pending > 0) {
      const sys = this.#sys;
      const events = this.#events;
      for (;;) {
        const count = sys.epoll_wait(this.#epoll, events, MAX_EVENTS, 0);
        if (count <= 0) break;
        const now = performance.now();
        for (let i = 0; i < count; i++) {
          const probe = this.#waiting[events[i * EVENT_WORDS + DATA_WORD]!];
          if (probe !== undefined) this.#answer(probe, events[i * EVENT_WORDS]!, now);
        }
        if (count < MAX_EVENTS) break;
      }
    }
    if (this.#pending > 0) this.#armPollTimer();
  }

  #answer(probe: NativeProbe, flags: number, now: number): void {
    const sys = this.#sys;
    const fd = probe.fd;
    let error = 0;
    if ((flags & (EPOLLERR | EPOLLHUP)) !== 0) {
      this.#soErrorLength[0] = 4;
      error = sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#soError, this.#soErrorLength) === 0 ? this.#soError[0]! : this.#lastErrno();
    }
    this.#release(probe);
    // A reset rather than a FIN: no TIME_WAIT socket per probe (tcp.ts).
    if (error === 0) sys.setsockopt(fd, SOL_SOCKET, SO_LINGER, this.#linger, 8);
    sys.close(fd);
    const latency = now - probe.started;
    probe.resolve(error === 0 ? connected(latency) : failed(errnoError(error), latency));
  }

  #release(probe: NativeProbe): void {
    this.#waiting[probe.fd] = undefined;
    probe.watch?.remove(probe);
    if (--this.#pending === 0 && this.#idleTimer === undefined) this.#armIdleTimer();
  }

  #armPollTimer(): void {
    if (this.#pollTimerArmed || this.#pollQueued) return;
    this.#pollTimerArmed = true;
    // The timer object is re-armed rather than allocated anew while its delay stays the same.
    const age = performance.now() - this.#lastStarted;
    const delay = Math.round(Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, age / 4)));
    if (this.#pollTimer !== undefined && delay === this.#pollDelay) {
      this.#pollTimer.refresh();
      return;
    }
    clearTimeout(this.#pollTimer);
    this.#pollDelay = delay;
    this.#pollTimer = setTimeout(this.#poll, delay);
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(this.#closeIfIdle, this.#idleCloseMs);
    // Only a descriptor to release: it must not keep the process alive.
    this.#idleTimer.unref();
  }

  #addressOf(target: ProbeTarget): Uint8Array | null {
    let address = this.#addresses.get(target);
    if (address === undefined) {
      address = sockaddr(target.address, target.port);
      this.#addresses.set(target, address);
    }
    return address;
  }

  #lastErrno(): number {
    return read.i32(this.#errno, 0);
  }
}

/** One probe waiting for its answer. */
class NativeProbe {
  watch: AbortWatch | undefined;

  constructor(
    readonly fd: number,
    readonly target: ProbeTarget,
    readonly signal: AbortSignal,
    readonly started: number,
    readonly resolve: (result: ProbeResult) => void,
  ) {}
}

/**
 * The probes waiting on one abort signal. The scheduler hands a target's probes the same signal until one aborts,
 * so its listener is added once per signal, not added and removed at every probe; it usually holds one probe.
 */
class AbortWatch {
  #one: NativeProbe | undefined;
  #more: Set<NativeProbe> | undefined;

  private constructor(readonly prober: NativeTcpProber) {}

  static of(signal: AbortSignal, watches: WeakMap<AbortSignal, AbortWatch>, prober: NativeTcpProber): AbortWatch {
    let watch = watches.get(signal);
    if (watch === undefined) {
      watch = new AbortWatch(prober);
      watches.set(signal, watch);
      signal.addEventListener("abort", watch, { once: true });
    }
    return watch;
  }

  add(probe: NativeProbe): void {
    probe.watch = this;
    if (this.#one === undefined) this.#one = probe;
    else (this.#more ??= new Set()).add(probe);
  }

  remove(probe: NativeProbe): void {
    probe.watch = undefined;
    if (this.#one === probe) this.#one = undefined;
    else this.#more?.delete(probe);
  }

  handleEvent(): void {
    const probes = [...(this.#one ? [this.#one] : []), ...(this.#more ?? [])];
    for (const probe of probes) this.prober.abort(probe);
  }
}

/** A sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes) for an IP literal; null for anything else. */
export function sockaddr(address: string, port: number): Uint8Array | null {
  const v4 = new Uint8Array(16);
  if (parseIPv4Into(address, v4, 4)) {
    v4[0] = AF_INET;
    v4[2] = port >> 8;
    v4[3] = port & 0xff;
    return v4;
  }
  const v6 = new Uint8Array(28);
  if (parseIPv6Into(address, v6, 8)) {
    v6[0] = AF_INET6;
    v6[2] = port >> 8;
    v6[3] = port & 0xff;
    return v6;
  }
  return null;
}
