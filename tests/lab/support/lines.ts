/** Reading a child process's output line by line, as the lab's helpers (route monitors, flow clients) print it. */

/** Every complete line of `stream`, as it comes; an unterminated tail is dropped. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    yield* lines;
  }
}

/** Calls `onLine` for every complete line of `stream`; resolves when the stream ends. */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  for await (const line of readLines(stream)) onLine(line);
}

/** Calls `onRecord` for every non-blank line of `stream`, parsed as JSON. */
export function forEachJsonLine<T>(stream: ReadableStream<Uint8Array>, onRecord: (record: T) => void): Promise<void> {
  return forEachLine(stream, (line) => {
    if (line.trim()) onRecord(JSON.parse(line) as T);
  });
}
