// Folds a Stryker run over some files (`pnpm mutation:file FILE...`, which writes
// reports/mutation/partial.json) into the record of the last full run, bench/mutation/report.json
// (checked in; see report.ts): each of those files' results replaces the earlier ones. A full
// `pnpm mutation` takes one to two hours here; after one file changed, this keeps the record
// whole (and rejudge.ts usable: it refuses a file whose source changed since the record) for the
// price of that file's mutants.
//
// A partial result is taken only if its source is the file as it is now (else it is stale too),
// and the record's other files are kept as they were. The record says which files were merged,
// and when (`merged`), so that the scores' provenance stays visible.
//
// Run: node --import tsx bench/mutation/merge.ts
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_PATH, readRecord, readReport, writeRecord, type Report } from './report.ts';

const root = new URL('../../', import.meta.url).pathname;
const partialPath = join(root, 'reports/mutation/partial.json');

function fail(message: string): never {
  process.stderr.write(`mutation merge: ${message}\n`);
  process.exit(2);
}

const full = readRecord();
const partial = readReport(partialPath, 'the partial report', 'run `pnpm mutation:file FILE` first');
const files = Object.keys(partial.files);
if (files.length === 0) fail(`${partialPath} holds no file`);
for (const file of files) {
  const now = readFileSync(join(root, file), 'utf8');
  if (partial.files[file]!.source !== now)
    fail(`${file} changed since the partial run: run \`pnpm mutation:file ${file}\` again`);
}
const merged: Report = { ...full, files: { ...full.files } };
const at = new Date().toISOString();
for (const file of files) merged.files[file] = partial.files[file]!;
merged.merged = [
  ...(merged.merged ?? []).filter((m) => !files.includes(m.file)),
  ...files.map((file) => ({ file, at })),
];
writeRecord(merged);
rmSync(partialPath);
for (const file of files) {
  const mutants = partial.files[file]!.mutants;
  const killed = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout').length;
  process.stdout.write(`${file}: ${killed} of ${mutants.length} mutants killed, merged into ${RECORD_PATH}\n`);
}
process.stdout.write('next: node --import tsx bench/mutation/classify.ts (scores and SURVIVORS.md)\n');
