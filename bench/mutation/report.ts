// StrykerJS's JSON report (mutation-testing-report-schema), as far as this project reads it:
// the classifier (classify.ts) and the re-judge (rejudge.ts) share these.

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

/** The report; `rejudged` is added by rejudge.ts when it rewrites the verdicts. */
export interface Report {
  files: Record<string, FileResult>;
  rejudged?: { at: string; mutants: number; killed: number; all: boolean };
}

/** Offset in `source` of a 1-based line and column. */
export function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = source.indexOf('\n', offset) + 1;
  return offset + column - 1;
}
