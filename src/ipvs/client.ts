import { IPVS_CMD_SET_CONFIG, IPVS_CMD_SET_INFO } from "./constants.ts";
import {
  decodeDaemonMessage,
  decodeDestinationMessage,
  decodeInfoMessage,
  decodeServiceMessage,
  decodeTimeoutsMessage,
} from "./codec/replies.ts";
import {
  type RequestHeader,
  encodeDelDaemon,
  encodeFlush,
  encodeGetConfig,
  encodeGetDaemons,
  encodeGetDestinations,
  encodeGetInfo,
  encodeGetServices,
  encodeNewDaemon,
  encodeOperation,
  encodeSetConfig,
  encodeZero,
} from "./codec/requests.ts";
import { ServiceKeyEncoder, type ServiceSelector } from "./codec/service-key.ts";
import { NetlinkDecodeError, NetlinkError } from "./errors.ts";
import { formatServiceKey } from "./identity.ts";
import { type EncodeRequest, Exchange, type OnMessage } from "./netlink/exchange.ts";
import type { MessageWriter } from "./netlink/writer.ts";
import { operationFailed, operationRefused } from "./operations.ts";
import { type RefusalContext, explainRefusal } from "./refusal.ts";
import { createLibnlTransport } from "./transport/libnl.ts";
import type { Transport } from "./transport/transport.ts";
import type {
  BatchResult,
  IpvsAdminClient,
  IpvsInfo,
  IpvsOperation,
  IpvsTimeouts,
  KernelDestination,
  KernelService,
  KernelServiceEntry,
  ServiceKey,
  SyncDaemonSettings,
  SyncDaemonState,
} from "./types.ts";

export interface IpvsClientOptions {
  /**
   * Most batch requests awaiting acknowledgement at once. Each acknowledgement occupies the socket's receive buffer
   * until read; 1,000 overflowed a default-sized one in the lab.
   */
  window?: number;
}

export const DEFAULT_WINDOW = 256;

/** The IPVS client over generic netlink; without a transport it opens a libnl socket on first use. */
export function createIpvsClient(transport?: Transport, options: IpvsClientOptions = {}): IpvsAdminClient {
  return new NetlinkIpvsClient(transport ?? createLibnlTransport(), options.window ?? DEFAULT_WINDOW);
}

class NetlinkIpvsClient implements IpvsAdminClient {
  readonly #transport: Transport;
  readonly #exchange: Exchange;
  readonly #window: number;
  #header: RequestHeader | undefined;

  constructor(transport: Transport, window: number) {
    if (!(window >= 1 && Number.isInteger(window))) throw new RangeError(`Window ${window} must be a positive integer`);
    this.#transport = transport;
    this.#exchange = new Exchange(transport);
    this.#window = window;
  }

  info(): IpvsInfo {
    let info: IpvsInfo | undefined;
    this.#request("get-info", { subject: "IPVS" }, encodeGetInfo, (message) => {
      if (message.command() === IPVS_CMD_SET_INFO) info = decodeInfoMessage(message);
    });
    if (!info) throw new NetlinkDecodeError("GET_INFO was acknowledged without a reply");
    return info;
  }

  listServices(): KernelService[] {
    const services: KernelService[] = [];
    this.#dump("list-services", { subject: "service" }, encodeGetServices, (message) => {
      const service = decodeServiceMessage(message);
      if (service) services.push(service);
    });
    return services;
  }

  listDestinations(service: ServiceSelector): KernelDestination[] {
    const destinations: KernelDestination[] = [];
    const encode = (writer: MessageWriter, header: RequestHeader) => encodeGetDestinations(writer, header, service);
    // The kernel allows one dump per socket at a time (EBUSY otherwise), so services are listed one after another.
    this.#dump(`list-destinations ${formatServiceKey(service)}`, { subject: "service" }, encode, (message) => {
      const destination = decodeDestinationMessage(message, service.family);
      if (destination) destinations.push(destination);
    });
    return destinations;
  }

  dump(): KernelServiceEntry[] {
    return this.listServices().map((service) => ({ service, destinations: this.listDestinations(service) }));
  }

  execute(operations: readonly IpvsOperation[]): BatchResult {
    if (operations.length === 0) return { ok: true }; // not even a socket: a no-op plan works without IPVS
    const header = this.#resolveHeader();
    const keys = new ServiceKeyEncoder();
    const encode = (writer: MessageWriter, index: number, seq: number) => {
      header.seq = seq;
      encodeOperation(writer, header, operations[index] as IpvsOperation, keys);
    };
    const outcome = this.#exchange.batch(operations.length, encode, this.#window);
    const failure = outcome.failure;
    if (!failure) return { ok: true };
    const operation = operations[failure.index] as IpvsOperation;
    const error =
      failure.errno !== 0 ? operationRefused(operation, failure.errno) : operationFailed(operation, failure.error);
    return { ok: false, succeeded: outcome.succeeded, failedIndex: failure.index, error };
  }

  getTimeouts(): IpvsTimeouts {
    let timeouts: IpvsTimeouts | undefined;
    this.#request("get-timeouts", { subject: "timeouts" }, encodeGetConfig, (message) => {
      if (message.command() === IPVS_CMD_SET_CONFIG) timeouts = decodeTimeoutsMessage(message);
    });
    if (!timeouts) throw new NetlinkDecodeError("GET_CONFIG was acknowledged without a reply");
    return timeouts;
  }

  setTimeouts(timeouts: IpvsTimeouts): void {
    this.#request("set-timeouts", { subject: "timeouts" }, (w, h) => encodeSetConfig(w, h, timeouts));
  }

  zero(service?: ServiceKey): void {
    const operation = service ? `zero-counters ${formatServiceKey(service)}` : "zero-counters";
    this.#request(operation, { subject: "service" }, (w, h) => encodeZero(w, h, service));
  }

  flush(): void {
    this.#request("flush", { subject: "table" }, encodeFlush);
  }

  startSyncDaemon(settings: SyncDaemonSettings): void {
    const operation = `start-sync-daemon ${settings.state} ${settings.interface}`;
    this.#request(operation, { subject: "sync daemon" }, (w, h) => encodeNewDaemon(w, h, settings));
  }

  stopSyncDaemon(state: SyncDaemonState): void {
    this.#request(`stop-sync-daemon ${state}`, { subject: "sync daemon" }, (w, h) => encodeDelDaemon(w, h, state));
  }

  listSyncDaemons(): SyncDaemonSettings[] {
    const daemons: SyncDaemonSettings[] = [];
    this.#dump("list-sync-daemons", { subject: "sync daemon" }, encodeGetDaemons, (message) => {
      const daemon = decodeDaemonMessage(message);
      if (daemon) daemons.push(daemon);
    });
    return daemons;
  }

  close(): void {
    this.#transport.close();
  }

  #request(operation: string, context: RefusalContext, encode: EncodeHeaded, onReply?: OnMessage): void {
    const errno = this.#exchange.request(this.#headed(encode), onReply);
    if (errno !== 0) throw new NetlinkError(errno, operation, explainRefusal(errno, context));
  }

  #dump(operation: string, context: RefusalContext, encode: EncodeHeaded, onMessage: OnMessage): void {
    const errno = this.#exchange.dump(this.#headed(encode), onMessage);
    if (errno !== 0) throw new NetlinkError(errno, operation, explainRefusal(errno, context));
  }

  #headed(encode: EncodeHeaded): EncodeRequest {
    const header = this.#resolveHeader();
    return (writer, seq) => {
      header.seq = seq;
      encode(writer, header);
    };
  }

  /** Resolves the family id and port on first use, so that merely creating a client touches no socket. */
  #resolveHeader(): RequestHeader {
    this.#header ??= { family: this.#transport.familyId(), seq: 0, port: this.#transport.portId() };
    return this.#header;
  }
}

type EncodeHeaded = (writer: MessageWriter, header: RequestHeader) => void;
