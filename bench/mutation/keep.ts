// Keeps a full Stryker run (`pnpm mutation` runs this after StrykerJS): its JSON report,
// reports/mutation/mutation.json (not checked in), becomes the record of the last run,
// bench/mutation/report.json (checked in), which classify.ts, rejudge.ts and merge.ts read.
// Run: node --import tsx bench/mutation/keep.ts
import { join } from 'node:path';
import { RECORD_PATH, readReport, writeRecord } from './report.ts';

const root = new URL('../../', import.meta.url).pathname;
const stryker = readReport(
  join(root, 'reports/mutation/mutation.json'),
  "Stryker's report",
  'run `pnpm mutation` first',
);
writeRecord({ files: stryker.files });
const mutants = Object.values(stryker.files).flatMap((f) => f.mutants);
const killed = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout').length;
process.stdout.write(
  `${Object.keys(stryker.files).length} file(s), ${mutants.length} mutants, ${killed} killed: kept in ${RECORD_PATH}\n` +
    'next: node --import tsx bench/mutation/classify.ts (scores and SURVIVORS.md)\n',
);
