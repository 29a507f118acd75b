/** A Unix socket that accepts qemu's connection and copies what arrives on it to a writer, until qemu closes it. */
export interface StderrSink {
  /** Resolves once qemu has closed its end (or `abandon` was called). */
  closed: Promise<void>;
  /** For when qemu exits without ever connecting. */
  abandon(): void;
}

export function listenForGuestStderr(path: string, write: (chunk: Uint8Array) => void): StderrSink {
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const listener = Bun.listen({
    unix: path,
    socket: {
      data: (_socket, chunk) => write(chunk),
      close: () => resolveClosed(),
      error: () => resolveClosed(),
    },
  });
  const finished = closed.then(() => listener.stop(true));
  return {
    closed: finished,
    abandon: () => resolveClosed(),
  };
}
