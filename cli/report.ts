// The text report of a simulation: a timeline per runner and a verdict table.
import type { RunResult } from '../simulator/run-scenario.ts';

const OTHER = (r: RunResult): string => {
  const other = r.violated.filter((id) => !['S1', 'S2', 'S3'].includes(id));
  return other.length === 0 ? '-' : other.join(' ');
};

export function renderVerdictTable(results: readonly RunResult[]): string {
  const header = [
    'runner',
    'declares',
    'ghost sessions',
    'leaked processes',
    'leaked worktrees',
    'other violations',
    'verdict',
  ];
  const rows = results.map((r) => [
    r.runner,
    r.declared.length === 0 ? '(nothing)' : r.declared.join(' '),
    String(r.counts.ghostSessions),
    String(r.counts.leakedProcesses),
    String(r.counts.leakedWorktrees),
    OTHER(r),
    r.verdict === 'as-declared' ? 'as declared' : 'UNEXPECTED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
