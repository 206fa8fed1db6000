import type { RunnerDefinition } from './contract.ts';
import { createReferenceRunner } from './core/reference-runner.ts';

export const referenceRunner: RunnerDefinition = {
  name: 'reference',
  description:
    'The reference runner: kills the whole tree on timeout, verifies PID generations, dedupes resumes, persists its children',
  declares: [],
  create: createReferenceRunner,
};

export default referenceRunner;
