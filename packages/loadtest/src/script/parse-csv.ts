// A small RFC 4180 CSV reader for payload files: quoted fields, doubled quotes, CRLF, blank lines skipped.

export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export function parseCsv(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let line = 1;
  let rowLine = 1;
  let isQuoted = false;
  let wasQuoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endField = () => {
    row.push(field);
    field = "";
    wasQuoted = false;
  };
  const endRow = () => {
    endField();
    const isBlank = row.length === 1 && row[0] === "";
    if (!isBlank) rows.push(row);
    row = [];
  };

  while (i < text.length) {
    const char = text[i] as string;
    if (isQuoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        isQuoted = false;
        wasQuoted = true;
        i++;
        const next = text[i];
        if (next !== undefined && next !== delimiter && next !== "\n" && next !== "\r") {
          throw new CsvSyntaxError(`unexpected "${next}" after a closing quote`, line);
        }
        continue;
      }
      if (char === "\n") line++;
      field += char;
      i++;
      continue;
    }
    if (char === '"') {
      if (field !== "" || wasQuoted) throw new CsvSyntaxError("a quote inside an unquoted field; quote the whole field", line);
      isQuoted = true;
      rowLine = line;
      i++;
    } else if (char === delimiter) {
      endField();
      i++;
    } else if (char === "\r" || char === "\n") {
      endRow();
      i += char === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
    } else {
      field += char;
      i++;
    }
  }
  if (isQuoted) throw new CsvSyntaxError("a quoted field is never closed", rowLine);
  if (field !== "" || wasQuoted || row.length > 0) endRow();
  return rows;
}
