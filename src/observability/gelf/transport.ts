/** Where GELF frames go: UDP datagrams or TCP frames. Implementations never block the caller. */

export interface GelfTarget {
  host: string;
  port: number;
}

export interface GelfTransport {
  /**
   * The frames of one message (several UDP chunks), or of a batch of messages (TCP frames, one per message); dropped,
   * not queued forever, on trouble.
   */
  send(frames: Uint8Array[]): void;
  close(): void;
}
