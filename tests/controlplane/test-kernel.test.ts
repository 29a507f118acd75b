/** The test-only memory table cannot be had by accident: nothing but LBCTL_TEST_MEMORY_KERNEL=1 opens it. */

import { expect, test } from "bun:test";
import { memoryKernel, memoryKernelRequested } from "../../src/controlplane/test-kernel.ts";

test("only the exact value 1 asks for the memory table", () => {
  expect(memoryKernelRequested({ LBCTL_TEST_MEMORY_KERNEL: "1" })).toBe(true);
  for (const value of [undefined, "", "0", "true", "yes", " 1"]) expect(memoryKernelRequested({ LBCTL_TEST_MEMORY_KERNEL: value })).toBe(false);
});

test("the table refuses to exist without the variable, and works with it", () => {
  expect(() => memoryKernel({})).toThrow("for tests only and needs LBCTL_TEST_MEMORY_KERNEL=1");
  expect(memoryKernel({ LBCTL_TEST_MEMORY_KERNEL: "1" }).info().version).toBe("memory (tests only)");
});
