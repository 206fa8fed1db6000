export * from './contract.ts';
export * from './ports.ts';
export * from './config.ts';
export { referenceRunner } from './reference.ts';
export { ReferenceRunner, createReferenceRunner } from './core/reference-runner.ts';
export { killTree, treeMembers, SPAWN_MARKER_ENV } from './core/kill-tree.ts';
export { generationNow, sameProcess } from './core/generation.ts';
