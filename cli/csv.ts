/**
 * CSV in and out through csv-parse and csv-stringify (RFC 4180: quoted fields, doubled quotes, line
 * breaks inside quotes), with the line each row starts on; malformed input is an error naming its line.
 */
import { CsvError, parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { CliError } from "./errors.ts";

export interface CsvRow {
  /** The line the row starts on (1-based), for error messages. */
  line: number;
  fields: string[];
}

const LINE_BREAK = /\r\n|\r|\n/;

/** The first line after `line` that is not empty (1-based): where the next row starts, blank lines being skipped. */
function nextRowLine(lines: string[], line: number): number {
  let i = line;
  while (i < lines.length && lines[i] === "") i++;
  return i + 1;
}

/**
 * Splits CSV text into rows; a byte-order mark and a final line break are optional, blank lines are
 * skipped, rows may differ in length, a quote inside an unquoted field is kept as it is. Throws
 * CliError `source:line: message` for a quote never closed or a field that goes on after its closing quote.
 */
export function parseCsv(text: string, source = "CSV"): CsvRow[] {
  const lines = text.split(LINE_BREAK);
  const rows: CsvRow[] = [];
  let lastLine = 0;
  const keep = (fields: string[], endLine: number) => {
    const line = nextRowLine(lines, lastLine);
    lastLine = endLine;
    if (fields.length > 1 || fields[0] !== "") rows.push({ line, fields });
    return null;
  };
  try {
    parse(text, {
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      on_record: (fields, context) => keep(fields, context.lines),
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    if (err.code === "CSV_QUOTE_NOT_CLOSED") {
      throw new CliError(
        `${source}:${nextRowLine(lines, lastLine)}: a quoted field is never closed (its row runs to the end of the file; nothing was read)`,
      );
    }
    throw new CliError(
      `${source}:${(err as CsvError & { lines?: number }).lines ?? lastLine + 1}: ${err.message} (nothing was read)`,
    );
  }
  return rows;
}

/**
 * CSV text for rows of fields, each line ending in a line break; a field is quoted when it holds a comma, a quote or a
 * line break.
 */
export function formatCsv(rows: string[][]): string {
  return stringify(rows);
}
