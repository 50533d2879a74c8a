/** Rows as aligned columns, two spaces apart (the first row is the header). */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  return rows.map((r) =>
    r
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd(),
  );
}

/** The time of day of an ISO time, `00:29:08Z`. */
export function clock(iso: string): string {
  return `${iso.slice(11, 19)}Z`;
}
