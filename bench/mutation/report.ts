// StrykerJS's JSON report (mutation-testing-report-schema), as far as this project reads it:
// the classifier (classify.ts), the re-judge (rejudge.ts) and the merge (merge.ts) share these.
//
// The record of the last run is checked in (bench/mutation/report.json): a full run takes one to
// two hours here, and without its record nothing can be classified, re-judged or merged into
// (a fresh clone had none: Stryker writes under reports/, which git ignores). The record keeps
// only what these tools read: each file's source as mutated, and each mutant's place,
// replacement and verdict, one mutant per line so that a re-judge shows as a readable diff.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One mutant: where it is (1-based lines and columns), what replaces the code there, and its verdict. */
export interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

/** One mutated file: its source as mutated, and its mutants. */
export interface FileResult {
  source: string;
  mutants: Mutant[];
}

/** The report; `rejudged` is added by rejudge.ts, `merged` by merge.ts. */
export interface Report {
  files: Record<string, FileResult>;
  rejudged?: { at: string; mutants: number; killed: number; all: boolean };
  merged?: Array<{ file: string; at: string }>;
}

/** Where the record of the last run is (checked in). */
export const RECORD_PATH = fileURLToPath(new URL('./report.json', import.meta.url));

/** Offset in `source` of a 1-based line and column. */
export function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = source.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

/** Reads a report (Stryker's own, or the record), or says plainly why it cannot (exit 2). */
export function readReport(path: string, what: string, hint: string): Report {
  const fail = (why: string): never => {
    process.stderr.write(`mutation: ${what} ${path} ${why}: ${hint}\n`);
    process.exit(2);
  };
  if (!existsSync(path)) fail('is missing');
  let report: Report | undefined;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  } catch (error) {
    fail(`is not JSON (${(error as Error).message})`);
  }
  if (typeof report?.files !== 'object' || report.files === null) fail('holds no files');
  return report!;
}

/** Reads the record of the last run (RECORD_PATH), or says why it cannot and how to make one. */
export function readRecord(): Report {
  return readReport(RECORD_PATH, 'the record of the last run', 'run `pnpm mutation` once (an hour or two)');
}

/** Writes `report` as the record: only what the tools read, one mutant per line; read back to check it. */
export function writeRecord(report: Report): void {
  const mutant = (m: Mutant): string =>
    JSON.stringify({
      id: m.id,
      mutatorName: m.mutatorName,
      ...(m.replacement !== undefined ? { replacement: m.replacement } : {}),
      status: m.status,
      location: m.location,
    });
  const files = Object.entries(report.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([path, file]) =>
        `${JSON.stringify(path)}: {"source": ${JSON.stringify(file.source)}, "mutants": [\n${file.mutants.map(mutant).join(',\n')}\n]}`,
    );
  const meta = {
    ...(report.rejudged !== undefined ? { rejudged: report.rejudged } : {}),
    ...(report.merged !== undefined ? { merged: report.merged } : {}),
  };
  const text = `{${Object.keys(meta).length > 0 ? `${JSON.stringify(meta).slice(1, -1)},\n` : ''}"files": {\n${files.join(',\n')}\n}}\n`;
  // The record is hand-assembled JSON: what it says must be exactly what was meant.
  const back = JSON.parse(text) as Report;
  for (const [path, file] of Object.entries(report.files)) {
    const kept = back.files[path];
    if (kept?.source !== file.source || kept.mutants.length !== file.mutants.length)
      throw new Error(`the mutation record would not say what the report does for ${path}`);
    for (const [i, m] of file.mutants.entries())
      if (JSON.stringify(kept.mutants[i]) !== mutant(m))
        throw new Error(`the mutation record would not say what the report does for mutant ${m.id} of ${path}`);
  }
  writeFileSync(RECORD_PATH, text);
}
