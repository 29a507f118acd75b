import { expect, test } from "bun:test";
import { parseLaunchArgs } from "./cli-args.ts";
import { DEFAULT_TIMEOUT_SECONDS } from "./run-in-lab.ts";

const defaults = { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, verbose: false, help: false };

test.each([
  [["--", "bun", "test"], { ...defaults, command: ["bun", "test"] }],
  [["bun", "test", "--timeout", "5"], { ...defaults, command: ["bun", "test", "--timeout", "5"] }],
  [["--timeout", "60", "--", "sh", "-c", "exit 7"], { ...defaults, timeoutSeconds: 60, command: ["sh", "-c", "exit 7"] }],
  [["--", "--timeout=9", "--verbose", "--", "true"], { ...defaults, timeoutSeconds: 9, verbose: true, command: ["true"] }],
  [["--", "--verbose", "ls", "--", "x"], { ...defaults, verbose: true, command: ["ls", "--", "x"] }],
  [["--help"], { ...defaults, help: true, command: [] }],
])("parseLaunchArgs(%j)", (argv, expected) => {
  expect(parseLaunchArgs(argv)).toEqual(expected);
});

test.each([
  [["--"], "No command given"],
  [["--timeout", "soon", "--", "true"], "--timeout needs a positive number"],
  [["--timeout", "0", "--", "true"], "--timeout needs a positive number"],
  [["--timeout"], "--timeout needs a positive number"],
  [["--frobnicate", "--", "true"], "Unknown option --frobnicate"],
])("parseLaunchArgs(%j) is rejected", (argv, message) => {
  expect(() => parseLaunchArgs(argv)).toThrow(message);
});
