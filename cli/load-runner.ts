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
  const typeScript = /\.[mc]?tsx?$/.test(path);
  if (typeScript) await ensureTypeScriptLoader(path);
  try {
    module =
      typeScript && typeScriptLoader === 'tsx' && commonJsScope(path)
        ? { default: requireWithTsx(path) }
        : ((await import(pathToFileURL(path).href)) as Record<string, unknown>);
  } catch (error) {
    // Node's own type stripping loads a .ts file of a CommonJS package as CommonJS, where an
    // `import` statement is a syntax error: say what to change, not only what Node says.
    const hint =
      typeScript && typeScriptLoader === 'node' && commonJsScope(path)
        ? `; Node loads it as CommonJS (the nearest package.json does not say "type": "module"): name it .mts, set "type": "module", or install tsx beside it (npm install -D tsx)`
        : '';
    throw new RunnerLoadError(
      `could not import runner module ${path}: ${error instanceof Error ? error.message : String(error)}${hint}`,
    );
  }
  const exported = exportedRunner(module);
  if (exported === undefined) throw new RunnerLoadError(`${path} exports neither "default" nor "runner"`);
  return asRunnerDefinition(exported, basename(path));
}

/**
 * What a module offers as its runner: its `default`, else its `runner`. A CommonJS module
 * compiled from ESM syntax (tsx, tsc, esbuild mark it `__esModule`) comes through import() with
 * its whole exports object as `default`: that object is looked into once more.
 */
function exportedRunner(module: Record<string, unknown>): unknown {
  const candidate = module.default ?? module.runner;
  if (typeof candidate !== 'object' || candidate === null || !('__esModule' in candidate)) return candidate;
  const compiled = candidate as Record<string, unknown>;
  return compiled.default ?? compiled.runner;
}

/**
 * Whether Node loads `path` as CommonJS: a .cts/.cjs file, or a .ts/.js one whose nearest
 * package.json does not say "type": "module" (npm init's default says "commonjs").
 */
function commonJsScope(path: string): boolean {
  if (/\.c[tj]sx?$/.test(path)) return true;
  if (/\.m[tj]sx?$/.test(path)) return false;
  // Bounded: one step up per directory of the path, to the root.
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return true; // unreadable: Node would refuse it too; CommonJS is its default
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/**
 * Requires a CommonJS-scoped TypeScript module through tsx's CommonJS hook. Imported instead,
 * tsx hands it to Node as CommonJS from inside the ESM loader, and its `require('runner-chaos')`
 * then fails on Node 20 ("Cannot require() ES Module ... in a cycle") while this CLI's own
 * modules are still evaluating; required as plain CommonJS, it loads as any CommonJS module does.
 */
function requireWithTsx(path: string): unknown {
  if (tsxFoundAt !== undefined && !tsxCommonJsHooked) {
    const fromTsx = createRequire(tsxFoundAt);
    (fromTsx(fromTsx.resolve('tsx/cjs/api')) as { register: () => unknown }).register();
  }
  // Loaded from the command line (`node --import tsx`), tsx hooks require as well as import.
  tsxCommonJsHooked = true;
  return createRequire(path)(path);
}

let typeScriptLoader: 'tsx' | 'node' | undefined;
/** Where tsx was found installed (unset when it came on the command line). */
let tsxFoundAt: string | undefined;
/** Whether tsx's CommonJS hook is on (CommonJS-scoped TypeScript modules are required through it). */
let tsxCommonJsHooked = false;

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
    tsxFoundAt = base;
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
