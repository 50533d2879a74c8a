import { readFileSync } from 'node:fs';
import path from 'node:path';

export const MIGRATION_DASHBOARD = path.resolve(import.meta.dirname, '../../deploy/grafana/dashboards/mythoughts-migration.json');

/** The parts of a Grafana panel the tests read. */
export interface GrafanaPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr?: string; readonly legendFormat?: string }[];
  readonly fieldConfig?: { readonly defaults: { readonly unit?: string; readonly custom?: Record<string, unknown> } };
  readonly gridPos: { readonly y: number };
}

/**
 * The panels of the migration dashboard's row `title`: those laid out below it, up to the
 * next row (the dashboard's rows are expanded, so their panels are top-level).
 */
export function panelsOfRow(title: string): GrafanaPanel[] {
  const panels = (JSON.parse(readFileSync(MIGRATION_DASHBOARD, 'utf8')) as { panels: GrafanaPanel[] }).panels;
  const rows = panels.filter((p) => p.type === 'row').sort((a, b) => a.gridPos.y - b.gridPos.y);
  const row = rows.find((r) => r.title === title);
  if (!row) throw new Error(`${MIGRATION_DASHBOARD} has no row "${title}"; its rows: ${rows.map((r) => r.title).join(', ')}`);
  const next = rows.find((r) => r.gridPos.y > row.gridPos.y)?.gridPos.y ?? Infinity;
  return panels.filter((p) => p.type !== 'row' && p.gridPos.y > row.gridPos.y && p.gridPos.y < next);
}
