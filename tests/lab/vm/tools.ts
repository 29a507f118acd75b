/** Where Debian installs programs; root's PATH usually has them all, but CI environments are not always root's. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Absolute path of a host program, looking in the system directories as well as PATH. */
export function findTool(name: string): string | undefined {
  return Bun.which(name, { PATH: `${process.env.PATH ?? ""}:${SYSTEM_PATH}` }) ?? undefined;
}

export { SYSTEM_PATH };
