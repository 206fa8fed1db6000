// Finds a runner by bundled name or loads it from a module path, and checks that what the
// module exports really is a runner before anything runs it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INVARIANTS, type RunnerDefinition } from '../runner/contract.ts';
import { bundledRunners, findBundledRunner } from '../fixtures/runners/index.ts';

export class RunnerLoadError extends Error {
  override readonly name = 'RunnerLoadError';
}

/** Accepts a RunnerDefinition, or a bare factory `(ports, config) => Runner` (declaring nothing). */
export function asRunnerDefinition(candidate: unknown, source: string): RunnerDefinition {
  if (typeof candidate === 'function') {
    return {
      name: source,
      description: `runner factory from ${source}`,
      declares: [],
      create: candidate as RunnerDefinition['create'],
    };
  }
  if (typeof candidate !== 'object' || candidate === null) {
    throw new RunnerLoadError(
      `${source}: expected a runner definition or factory, got ${candidate === null ? 'null' : typeof candidate}`,
    );
  }
  const def = candidate as Partial<RunnerDefinition>;
  const problems: string[] = [];
  if (typeof def.name !== 'string' || def.name === '') problems.push('"name" must be a non-empty string');
  if (typeof def.create !== 'function') problems.push('"create" must be a function (ports, config) => Runner');
  if (!Array.isArray(def.declares)) problems.push('"declares" must be an array of invariant ids');
  else {
    const unknown = def.declares.filter((id) => !(INVARIANTS as readonly string[]).includes(id));
    if (unknown.length > 0)
      problems.push(`"declares" names unknown invariants: ${unknown.join(', ')} (known: ${INVARIANTS.join(' ')})`);
  }
  if (problems.length > 0)
    throw new RunnerLoadError(`${source} does not export a valid runner: ${problems.join('; ')}`);
  return { description: '', ...def } as RunnerDefinition;
}

export async function loadRunner(nameOrPath: string): Promise<RunnerDefinition> {
  const bundled = findBundledRunner(nameOrPath);
  if (bundled !== undefined) return bundled;
  const looksLikePath = /[/\\.]/.test(nameOrPath);
  if (!looksLikePath) {
    throw new RunnerLoadError(
      `no bundled runner "${nameOrPath}" (bundled: ${bundledRunners.map((r) => r.name).join(', ')}); give a module path to load your own`,
    );
  }
  const path = resolve(nameOrPath);
  if (!existsSync(path)) throw new RunnerLoadError(`runner module ${path} does not exist`);
  let module: Record<string, unknown>;
  if (/\.[mc]?tsx?$/.test(path)) await ensureTypeScriptLoader(path);
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RunnerLoadError(
      `could not import runner module ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const exported = module.default ?? module.runner;
  if (exported === undefined) throw new RunnerLoadError(`${path} exports neither "default" nor "runner"`);
  return asRunnerDefinition(exported, basename(path));
}

let typeScriptLoader: 'tsx' | 'node' | undefined;

/**
 * A TypeScript runner module needs a loader when we run from the built JavaScript. tsx is an
 * optional peer: it pulls in esbuild, whose install script pnpm 11+ refuses by default, so it is
 * not forced on anyone. In order: tsx already loaded (our own tests), tsx installed beside the
 * runner module or in the working directory, Node's own type stripping (22.18+, 23.6+), and
 * otherwise a message that says what to do.
 */
async function ensureTypeScriptLoader(modulePath: string): Promise<void> {
  if (typeScriptLoader !== undefined) return;
  if (process.execArgv.some((a) => a.includes('tsx')) || process.env.TSX_TSCONFIG_PATH !== undefined) {
    typeScriptLoader = 'tsx';
    return;
  }
  for (const base of [modulePath, join(process.cwd(), 'package.json')]) {
    const api = tsxEsmApi(base);
    if (api === undefined) continue; // not installed there
    const { register } = (await import(pathToFileURL(api).href)) as { register: () => unknown };
    register();
    typeScriptLoader = 'tsx';
    return;
  }
  const features = process.features as { typescript?: string | false };
  if (features.typescript !== undefined && features.typescript !== false) {
    typeScriptLoader = 'node';
    return;
  }
  throw new RunnerLoadError(
    `runner module ${modulePath} is TypeScript, and this Node ${process.version} cannot load it alone: ` +
      'install tsx beside it (npm install -D tsx), or use Node 22.18 or later (it strips types itself), or give the compiled .js module',
  );
}

/** tsx's ESM API (`tsx/esm/api`, its `import` condition) as installed where `base` would find it. */
function tsxEsmApi(base: string): string | undefined {
  let manifestPath: string;
  try {
    manifestPath = createRequire(base).resolve('tsx/package.json');
  } catch {
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: Record<string, { import?: string | { default?: string } }>;
  };
  const entry = manifest.exports?.['./esm/api']?.import;
  const file = typeof entry === 'string' ? entry : entry?.default;
  return file === undefined ? undefined : join(dirname(manifestPath), file);
}
