// Plain-text tables and target checks for benchmark output.

/** Formats rows (arrays of cells) as an aligned text table under a header row. */
export function formatTable(header, rows) {
  const cells = [header, ...rows].map((row) => row.map((c) => (c === null || c === undefined ? "—" : String(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row) =>
    row
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/**
 * One summary row: a figure, its unit, its target and whether it meets it. `pass` is null when
 * there is no target or no figure; `warning` says why a figure cannot be trusted.
 * @param {{ label: string, value: number | null, unit?: string, target?: { op: ">=" | "<=" | "<", value: number },
 * warning?: string }} row
 */
export function summaryRow({ label, value, unit = "", target, warning }) {
  let pass = null;
  if (target && typeof value === "number" && Number.isFinite(value)) {
    const tests = {
      ">=": value >= target.value,
      "<=": value <= target.value,
      ">": value > target.value,
      "<": value < target.value,
    };
    if (!(target.op in tests)) throw new Error(`summary row ${label}: unknown target ${target.op}`);
    pass = tests[target.op];
  }
  return {
    label,
    value,
    unit,
    target: target ? `${target.op} ${target.value}` : null,
    pass,
    ...(warning ? { warning } : {}),
  };
}

/** The verdict cell for a summary row. */
export function verdict(row) {
  const base = row.pass === null ? "" : row.pass ? "pass" : "FAIL";
  return row.warning ? `${base}${base ? " " : ""}!! ${row.warning}` : base;
}

export const round = (n, digits = 3) =>
  typeof n === "number" && Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : null;

/** The q-quantile (0..1) of ascending-sorted numbers. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * Prints a bench script's summary rows as a table and writes its result to bench/.tmp/<name>.json,
 * where bench/run.mjs collects it.
 */
export async function writeBenchResult(name, result) {
  console.log(
    formatTable(
      ["figure", "value", "target"],
      result.summary.map((s) => [s.label, `${s.value} ${s.unit}`, s.target ?? ""]),
    ),
  );
  const { mkdir, writeFile } = await import("node:fs/promises");
  const dir = new URL("../.tmp/", import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL(`${name}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
}
