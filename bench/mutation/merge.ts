// Folds a Stryker run over some files (`pnpm mutation:file FILE...`, which writes
// reports/mutation/partial.json) into the full report, reports/mutation/mutation.json: each of
// those files' results replaces the earlier ones. A full `pnpm mutation` takes two hours here;
// after one file changed, this keeps the report whole (and rejudge.ts usable: it refuses a file
// whose source changed since the report) for the price of that file's mutants.
//
// A partial result is taken only if its source is the file as it is now (else it is stale too),
// and the full report's other files are kept as they were. The report says which files were
// merged, and when (`merged`), so that the scores' provenance stays visible.
//
// Run: node --import tsx bench/mutation/merge.ts
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './report.ts';

const root = new URL('../../', import.meta.url).pathname;
const fullPath = join(root, 'reports/mutation/mutation.json');
const partialPath = join(root, 'reports/mutation/partial.json');

function fail(message: string): never {
  process.stderr.write(`mutation merge: ${message}\n`);
  process.exit(2);
}

function read(path: string, what: string): Report {
  if (!existsSync(path))
    fail(
      `${what} ${path} is missing: ${what === 'partial report' ? 'run `pnpm mutation:file FILE` first' : 'run `pnpm mutation` first'}`,
    );
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Report;
  } catch (error) {
    fail(`${what} ${path} is not JSON (${(error as Error).message})`);
  }
}

const full = read(fullPath, 'full report');
const partial = read(partialPath, 'partial report');
const files = Object.keys(partial.files);
if (files.length === 0) fail(`${partialPath} holds no file`);
for (const file of files) {
  const now = readFileSync(join(root, file), 'utf8');
  if (partial.files[file]!.source !== now)
    fail(`${file} changed since the partial run: run \`pnpm mutation:file ${file}\` again`);
}
const merged = { ...full, files: { ...full.files } } as Report & { merged?: Array<{ file: string; at: string }> };
const at = new Date().toISOString();
for (const file of files) merged.files[file] = partial.files[file]!;
merged.merged = [
  ...(merged.merged ?? []).filter((m) => !files.includes(m.file)),
  ...files.map((file) => ({ file, at })),
];
writeFileSync(fullPath, JSON.stringify(merged));
rmSync(partialPath);
for (const file of files) {
  const mutants = partial.files[file]!.mutants;
  const killed = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout').length;
  process.stdout.write(`${file}: ${killed} of ${mutants.length} mutants killed, merged into ${fullPath}\n`);
}
process.stdout.write('next: node --import tsx bench/mutation/classify.ts (scores and SURVIVORS.md)\n');
