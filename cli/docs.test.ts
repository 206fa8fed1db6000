// The README and the command lines' help agree with the code: every flag is documented, the fault
// kinds listed are the generator's, and every file the README names exists in a clone (the
// contributors' docs live in the project, not beside it).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { buildProgram } from './main.ts';
import { FAULT_KINDS } from '../properties/arbitraries.ts';

const root = new URL('../', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');

describe('the README and the help', () => {
  it('documents every flag of every command', () => {
    const missing: string[] = [];
    for (const command of buildProgram().commands) {
      for (const option of command.options) {
        const flag = option.long!.replace(/^--no-/, '--');
        const documented = readme.includes(`\`${option.long}`) || readme.includes(`\`${flag}`);
        if (!documented) missing.push(`${command.name()} ${option.long}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("lists exactly the generator's fault kinds, in both the README and check --help", () => {
    const listed = /`--without KIND` \| [^(]*\(`([^`]+)`\)/.exec(readme)?.[1]?.split(' ');
    expect(listed).toEqual([...FAULT_KINDS]);
    const check = buildProgram().commands.find((c) => c.name() === 'check')!;
    const help = check.options.find((o) => o.long === '--without')!.description;
    for (const kind of FAULT_KINDS) expect(help).toContain(kind);
  });

  it('names the same defaults as the help', () => {
    const simulate = buildProgram().commands.find((c) => c.name() === 'simulate')!;
    const runner = simulate.options.find((o) => o.long === '--runner')!.description;
    expect(runner).toContain('default: reference, legacy, pr440-initial');
    expect(readme).toMatch(/\| `--runner NAME\\\|PATH` \| [^|]+\| `reference`, `legacy`, `pr440-initial` \|/);
  });

  it('names only files that exist in a clone', () => {
    expect(readme).not.toMatch(/\.\.\/shared|DESIGN\.md|UPSTREAM-BUGS/);
    const named = [...readme.matchAll(/`((?:cli|runner|simulator|properties|fixtures|bench)\/[\w./-]+)`/g)].map(
      (m) => m[1]!,
    );
    expect(named.length).toBeGreaterThan(20);
    // A path may name a pattern (NAME-ID.json) or a folder; only literal file paths are checked.
    const literal = named.filter((p) => !/[A-Z]{2,}|\*/.test(p));
    expect(literal.filter((p) => !existsSync(`${root}${p}`))).toEqual([]);
  });
});
