/**
 * docs/install.md "Tuning profiles" shows the table src/system/sysctl/profiles.ts holds: the same keys in the same
 * order, the same value per profile ("(kernel)" where a profile leaves the default) and the same condition. The
 * reasons are worded for each reader and are not compared.
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONN_TAB_BITS, type Condition, SYSCTL_SETTINGS, TUNING_PROFILES } from "../../src/system/sysctl/profiles.ts";

const doc = readFileSync(join(import.meta.dir, "../../docs/install.md"), "utf8");

/** The rows of the first table after the "## Tuning profiles" heading, as cells without their backticks. */
function tuningTable(): string[][] {
  const section = doc.split("\n## Tuning profiles\n")[1];
  if (section === undefined) throw new Error('docs/install.md has no "## Tuning profiles" section');
  const lines = section.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| key |"));
  if (start < 0) throw new Error('no "| key |" table under "## Tuning profiles"');
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((cell) => cell.trim().replaceAll("`", "")));
  }
  return rows;
}

const CONDITIONS: Record<string, Condition> = { always: "always", NAT: "nat", "IPv4 NAT": "nat-ipv4", "IPv6 NAT": "nat-ipv6", "bgp.enabled": "bgp" };

test("the table of docs/install.md has every setting of profiles.ts, in order, with its values and condition", () => {
  const rows = tuningTable();
  const sysctlRows = rows.filter(([key]) => !key!.startsWith("ip_vs conn_tab_bits"));
  const documented = sysctlRows.map(([key, minimal, balanced, aggressive, when]) => ({
    key,
    values: Object.fromEntries(TUNING_PROFILES.map((profile, i) => [profile, [minimal, balanced, aggressive][i] === "(kernel)" ? undefined : [minimal, balanced, aggressive][i]])),
    when: CONDITIONS[when!] ?? `unknown condition "${when}"`,
  }));
  expect(documented).toEqual(SYSCTL_SETTINGS.map(({ key, values, when }) => ({ key, values: { ...values }, when })));
});

test("conn_tab_bits: one row, the module option's value per profile, always", () => {
  const rows = tuningTable().filter(([key]) => key!.startsWith("ip_vs conn_tab_bits"));
  expect(rows).toHaveLength(1);
  const [, minimal, balanced, aggressive, when] = rows[0]!;
  expect({ minimal: Number(minimal), balanced: Number(balanced), aggressive: Number(aggressive), when }).toEqual({ ...CONN_TAB_BITS, when: "always" });
});
