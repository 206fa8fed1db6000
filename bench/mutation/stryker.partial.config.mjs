// `pnpm mutation:file FILE...`: Stryker over some files only (a full run takes two hours here),
// written to reports/mutation/partial.json, which bench/mutation/merge.ts then folds into the
// full report in place of those files' earlier results.
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/partial.json' },
};
