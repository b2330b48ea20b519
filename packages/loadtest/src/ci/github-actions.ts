// GitHub Actions workflow commands (`::error title=…::message`) and the job summary's Markdown, escaped as the
// runner expects: in the message % CR LF become %25 %0D %0A; in a property's value also : and , (%3A %2C).

export type AnnotationLevel = "error" | "warning" | "notice";

export interface Annotation {
  level: AnnotationLevel;
  title?: string;
  message: string;
  /** A file the annotation points at (a path from the repository root). */
  file?: string;
}

/** The runner's escaping of a command's message. */
export function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** The runner's escaping of a command property's value. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

export function formatAnnotation({ level, title, message, file }: Annotation): string {
  const properties = [file === undefined ? "" : `file=${escapeProperty(file)}`, title === undefined ? "" : `title=${escapeProperty(title)}`].filter(Boolean);
  return `::${level}${properties.length > 0 ? ` ${properties.join(",")}` : ""}::${escapeData(message)}`;
}

/** True inside a GitHub Actions job (the runner sets GITHUB_ACTIONS=true). */
export function isGithubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === "true";
}

/** A Markdown table cell: pipes escaped, line breaks as <br>. */
export function markdownCell(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replaceAll("\r", "").replaceAll("\n", "<br>");
}

export function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return [line(headers), `| ${headers.map(() => "---").join(" | ")} |`, ...rows.map(line)].join("\n");
}
