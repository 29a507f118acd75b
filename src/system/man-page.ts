/**
 * docs/cli.md as the man page lbctl(8): a small markdown-to-roff converter for the constructs that file uses
 * (headings, paragraphs, fenced code, lists, pipe tables, inline code, bold, italics, links, HTML comments).
 * Pure: build.ts reads the markdown and writes the page. `## lbctl ...` headings become subsections of COMMANDS;
 * other `##` headings become sections.
 */

export interface ManPageInfo {
  version: string;
  /** One line for NAME, after "lbctl \-". */
  summary: string;
}

/** Escapes text for roff: backslashes, hyphens (so options copy as ASCII), characters beyond ASCII as \\[uXXXX]. */
function escapeText(text: string): string {
  return text
    .replaceAll("\\", "\\e")
    .replaceAll("-", "\\-")
    .replace(/[^\x00-\x7f]/gu, (ch) => `\\[u${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`);
}

function startOfLine(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** Inline markdown: `code`, **bold**, *italic*, [text](link). */
export function inline(text: string): string {
  let out = "";
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    out += escapeText(text.slice(last, match.index));
    const [, code, bold, italic, linkText, url] = match;
    if (code !== undefined) out += `\\fB${escapeText(code)}\\fR`;
    else if (bold !== undefined) out += `\\fB${inline(bold)}\\fR`;
    else if (italic !== undefined) out += `\\fI${inline(italic)}\\fR`;
    else if (linkText !== undefined) {
      // A link to another page of docs/ names that page; an absolute URL is kept.
      const target = /^[a-z]+:/.test(url!) ? url! : `docs/${url!.replace(/#.*$/, "")}`;
      out += `${inline(linkText!)} (${escapeText(target)})`;
    }
    last = match.index! + match[0].length;
  }
  return out + escapeText(text.slice(last));
}

function tableRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((cell) => cell.trim());
}

export function markdownToMan(markdown: string, info: ManPageInfo): string {
  const lines = markdown.replace(/<!--[\s\S]*?-->/g, "").split("\n");
  const out: string[] = [
    `.TH LBCTL 8 "" "lbctl ${info.version}" "System Administration"`,
    ".SH NAME",
    `lbctl \\- ${escapeText(info.summary)}`,
    ".SH SYNOPSIS",
    ".B lbctl",
    ".I command",
    "[\\fIoptions\\fR]",
  ];
  let inCommands = false;
  let paragraph: string[] = [];
  let sawTitle = false;
  const flush = () => {
    if (paragraph.length === 0) return;
    out.push(".PP", ...paragraph.map((line) => startOfLine(inline(line))));
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    if (heading) {
      flush();
      const [, hashes, title] = heading;
      if (hashes === "#") {
        if (!sawTitle) out.push(".SH DESCRIPTION");
        sawTitle = true;
      } else if (hashes === "##" && title!.startsWith("lbctl")) {
        if (!inCommands) out.push(".SH COMMANDS");
        inCommands = true;
        out.push(`.SS "${inline(title!).replaceAll('"', '\\(dq')}"`);
      } else if (hashes === "##") {
        inCommands = false;
        out.push(`.SH "${inline(title!.toUpperCase()).replaceAll('"', '\\(dq')}"`);
      } else {
        out.push(`.SS "${inline(title!).replaceAll('"', '\\(dq')}"`);
      }
      continue;
    }
    if (line.startsWith("```")) {
      flush();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
      out.push(".PP", ".RS 4", ".nf", ...body.map((code) => startOfLine(escapeText(code))), ".fi", ".RE");
      continue;
    }
    if (line.startsWith("|")) {
      flush();
      const rows: string[][] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(tableRow(lines[i]!));
      i--;
      const [header, , ...body] = rows;
      out.push(".PP", startOfLine(inline(header!.join(" \u2014 "))));
      for (const row of body) out.push(".TP", startOfLine(inline(row[0]!)), startOfLine(inline(row.slice(1).join("; "))));
      continue;
    }
    const item = /^(\s*)(- |\d+\. )(.*)$/.exec(line);
    if (item) {
      flush();
      const bullet = item[2]!.trim();
      const text = [item[3]!];
      while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]!) && !/^\s*(- |\d+\. )/.test(lines[i + 1]!)) text.push(lines[++i]!.trim());
      out.push(bullet === "-" ? ".IP \\(bu 2" : `.IP ${bullet} 4`, ...text.map((t) => startOfLine(inline(t))));
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    paragraph.push(line.trim());
  }
  flush();
  out.push(
    ".SH FILES",
    ".TP",
    "\\fI/etc/lbctl/config.yaml\\fR",
    "the main file (\\fB\\-\\-config\\fR, \\fBLBCTL_CONFIG\\fR)",
    ".TP",
    "\\fI/etc/lbctl/config.d/*.yaml\\fR",
    "the service files",
    ".TP",
    "\\fI/etc/systemd/system/lbctl.service\\fR",
    "the daemon's unit",
    ".SH SEE ALSO",
    "\\fBipvsadm\\fR(8), \\fBsystemd.exec\\fR(5), and the documentation in the project's \\fIdocs/\\fR folder.",
  );
  return `${out.join("\n")}\n`;
}
