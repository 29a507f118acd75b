/**
 * Waiting for stdout and stderr to be written out before the process exits. Bun (like Node) hands a write to a pipe
 * to the OS in the background: `process.exit` right after a large write keeps the first 64 KiB (one pipe buffer)
 * and drops the rest, and the stream's own counters (writableLength, writableNeedDrain) stay at zero meanwhile. The
 * write callback is the one signal that fires when the bytes are out, so every write is counted until its callback.
 */

export interface WrittenStreams {
  /** Resolves once every write so far has reached the pipe, file or terminal, or the reader went away (EPIPE). */
  settled(): Promise<void>;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * Counts the pending writes of each stream, whoever writes (consola, citty, the commands). Call once per process, at
 * the entry point, before anything writes.
 */
export function trackWrites(streams: readonly NodeJS.WriteStream[]): WrittenStreams {
  const trackers = streams.map(trackStream);
  return { settled: () => Promise.all(trackers.map((t) => t.settled())).then(() => undefined) };
}

function trackStream(stream: NodeJS.WriteStream): WrittenStreams {
  let pending = 0;
  let closed = false;
  let waiters: (() => void)[] = [];
  const wakeIfSettled = () => {
    if (pending > 0 && !closed) return;
    const ready = waiters;
    waiters = [];
    for (const wake of ready) wake();
  };
  // A reader that stops reading (`lbctl status --json | head -1`) is its choice, not an lbctl failure: stop writing
  // there and exit with the command's own code, without an unhandled-error trace.
  stream.on("error", () => {
    closed = true;
    wakeIfSettled();
  });
  const write = stream.write.bind(stream) as (chunk: unknown, encoding?: BufferEncoding, callback?: WriteCallback) => boolean;
  stream.write = ((chunk: unknown, encodingOrCallback?: BufferEncoding | WriteCallback, callback?: WriteCallback) => {
    const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
    const encoding = typeof encodingOrCallback === "function" ? undefined : encodingOrCallback;
    if (closed) {
      done?.(null);
      return false;
    }
    pending++;
    return write(chunk, encoding, (error) => {
      pending--;
      wakeIfSettled();
      done?.(error);
    });
  }) as typeof stream.write;
  return {
    settled: () =>
      pending === 0 || closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push(resolve);
          }),
  };
}
