/**
 * A strict InfluxDB line protocol parser, written for the tests from the protocol's description (not from the
 * encoder): it refuses what InfluxDB refuses (unescaped specials, empty keys and tag values, NaN, a missing
 * timestamp, trailing garbage) and, stricter than InfluxDB, a backslash that escapes nothing.
 */

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  time: number;
}

export class LineProtocolError extends Error {
  override readonly name = "LineProtocolError";
}

export function parseLines(body: string): ParsedPoint[] {
  if (!body.endsWith("\n")) throw new LineProtocolError("the body does not end with a newline");
  return body
    .slice(0, -1)
    .split("\n")
    .map((line, index) => {
      try {
        return parseLine(line);
      } catch (error) {
        throw new LineProtocolError(`line ${index + 1}: ${(error as Error).message}: ${line}`);
      }
    });
}

/** Reads up to an unescaped stop character; `escapable` may follow a backslash. */
function readToken(line: string, start: number, stops: string, escapable: string): [string, number] {
  let out = "";
  let i = start;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "\\") {
      const next = line[i + 1];
      if (next === undefined || !escapable.includes(next)) throw new Error(`a backslash escapes nothing at ${i}`);
      out += next;
      i += 2;
      continue;
    }
    if (stops.includes(c)) break;
    if (c === "\n" || c === "\r") throw new Error("a newline inside a line");
    out += c;
    i++;
  }
  return [out, i];
}

function parseLine(line: string): ParsedPoint {
  let [measurement, i] = readToken(line, 0, ", ", ", \\");
  if (!measurement) throw new Error("empty measurement");
  const tags: Record<string, string> = {};
  while (line[i] === ",") {
    const [key, afterKey] = readToken(line, i + 1, "=, ", ",= \\");
    if (!key || line[afterKey] !== "=") throw new Error("a tag without key or =");
    const [value, afterValue] = readToken(line, afterKey + 1, ", =", ",= \\");
    if (!value) throw new Error(`tag ${key} has an empty value`);
    if (line[afterValue] === "=") throw new Error(`an unescaped = in the value of tag ${key}`);
    if (key in tags) throw new Error(`tag ${key} twice`);
    tags[key] = value;
    i = afterValue;
  }
  if (line[i] !== " ") throw new Error("no space before the fields");
  i++;
  const fields: ParsedPoint["fields"] = {};
  for (;;) {
    const [key, afterKey] = readToken(line, i, "=, ", ",= \\");
    if (!key || line[afterKey] !== "=") throw new Error("a field without key or =");
    i = afterKey + 1;
    let value: number | string | boolean;
    if (line[i] === '"') {
      let text = "";
      i++;
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error("an unterminated string");
        if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) {
          text += line[i + 1];
          i += 2;
          continue;
        }
        if (c === "\\") throw new Error("a backslash escapes nothing in a string");
        if (c === '"') break;
        if (c === "\n") throw new Error("a newline in a string");
        text += c;
        i++;
      }
      i++;
      value = text;
    } else {
      const match = /^(?:(-?\d+)i|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(t|T|true|True|TRUE|f|F|false|False|FALSE))(?=[ ,])/.exec(line.slice(i));
      if (!match) throw new Error(`field ${key} has no valid value`);
      value = match[1] !== undefined ? Number(match[1]) : match[2] !== undefined ? Number(match[2]) : /^[tT]/.test(match[3]!);
      i += match[0].length;
    }
    if (key in fields) throw new Error(`field ${key} twice`);
    fields[key] = value;
    if (line[i] === ",") {
      i++;
      continue;
    }
    break;
  }
  if (line[i] !== " ") throw new Error("no timestamp");
  const time = line.slice(i + 1);
  if (!/^-?\d+$/.test(time)) throw new Error(`a bad timestamp "${time}"`);
  return { measurement, tags, fields, time: Number(time) };
}
