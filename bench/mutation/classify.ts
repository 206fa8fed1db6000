// Classifies every mutant `pnpm mutation` left alive, from the record of the last run
// (bench/mutation/report.json, checked in: see report.ts), and writes the per-file
// scores and the classification as Markdown: bench/mutation/SURVIVORS.md.
//
// The classes, each a rule with its argument:
//  - logging: the mutant lies inside a `logger.log(...)` call; or it changes only whether logging
//    happens: the condition of an `if` with no `else` whose body is nothing but logger calls, or
//    a block emptied that held nothing but logger calls. What a runner logs is for people; the
//    contract and the invariants never read it. Killing these would need a check on log wording,
//    which would gate nothing a runner's users rely on.
//  - message: a string literal of a human-readable `message`/`errorMessage` in an answer, or of
//    an Error's text. The contract fixes reasons and statuses, not wording (T1 reads `reason`).
//  - equivalent: argued by hand, one by one: its note in bench/mutation/gap-notes.json (keyed by
//    file:line:mutator) starts with "equivalent" and says why no invariant can tell it apart in
//    any world the generators make. Still listed below, with its argument, so it can be checked.
//    Where one line's mutants of one mutator differ (a sub-expression made `true` may be
//    equivalent where the whole test made `true` is not), a note keyed file:line:mutator@column,
//    or @column=replacement, speaks for that one mutant alone and comes first.
//  - allowed: argued by hand, one by one, like the equivalents: its note starts with "allowed"
//    and names the two behaviours the contract leaves to the runner (a courtesy SIGTERM sent
//    again or not, `stopped` or `already_gone` where both are true). The mutant changes what the
//    runner does, but the mutated runner still keeps every promise of the contract: no check
//    should fail it. Counted apart from the gaps, and listed with them.
//  - gap: everything else: behaviour the suite did not catch. Each is listed with its place and
//    replacement; a gap gets a check or fault kind, or a sentence saying why not (the notes
//    column, kept by hand in the same file).
// Run: node --import tsx bench/mutation/classify.ts [report.json]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { offsetOf, RECORD_PATH, readReport, type FileResult, type Mutant } from './report.ts';

const reportPath = process.argv[2] ?? RECORD_PATH;
const report = readReport(reportPath, 'the mutation report', 'run `pnpm mutation` once (an hour or two)');
const notesPath = new URL('./gap-notes.json', import.meta.url);
const notes = existsSync(notesPath)
  ? (JSON.parse(readFileSync(notesPath, 'utf8')) as Record<string, string>)
  : ({} as Record<string, string>);

/** Offsets of [start, end) spans of calls `name(` ... `)` in `source`, by paren matching. */
function callSpans(source: string, pattern: RegExp): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const match of source.matchAll(pattern)) {
    const open = match.index! + match[0].length - 1;
    let depth = 0;
    for (let i = open; i < source.length; i++) {
      if (source[i] === '(') depth++;
      else if (source[i] === ')' && --depth === 0) {
        spans.push([match.index!, i + 1]);
        break;
      }
    }
  }
  return spans;
}

type Class = 'logging' | 'message' | 'equivalent' | 'allowed' | 'gap';

/** A logger call with its receiver (`this.ports.logger.log(`), or a local `log(` helper. */
const LOG_CALL = /(?:\b[\w$]+\.)*logger\.log\(|\blog\(/g;

/** The end of the bracketed span opening at `open` (`(`/`)` or `{`/`}`), or -1. */
function closing(source: string, open: number): number {
  const [inc, dec] = source[open] === '{' ? ['{', '}'] : ['(', ')'];
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === inc) depth++;
    else if (source[i] === dec && --depth === 0) return i;
  }
  return -1;
}

/** Whether `text` is nothing but logger calls (and semicolons, whitespace, comments). */
function onlyLogging(text: string): boolean {
  const calls = callSpans(text, LOG_CALL);
  let rest = text;
  for (const [a, b] of [...calls].reverse()) rest = rest.slice(0, a) + rest.slice(b);
  rest = rest.replace(/\/\/[^\n]*/g, '').replace(/[\s;]/g, '');
  return rest === '' && calls.length > 0;
}

/**
 * Whether the mutated span [start, end) decides only whether something is logged: it lies in the
 * condition of an `if` that has no `else` and whose body is only logger calls, or it is such a
 * block itself (emptied by the mutant).
 */
function guardsOnlyLogging(source: string, start: number, end: number, mutator: string): boolean {
  if (mutator === 'BlockStatement' && source[start] === '{') return onlyLogging(source.slice(start + 1, end - 1));
  for (const match of source.matchAll(/\bif\s*\(/g)) {
    const open = match.index! + match[0].length - 1;
    const close = closing(source, open);
    if (close < 0 || !(open < start && end <= close + 1)) continue;
    let at = close + 1;
    while (/\s/.test(source[at] ?? '')) at++;
    let bodyEnd: number;
    let body: string;
    if (source[at] === '{') {
      bodyEnd = closing(source, at) + 1;
      body = source.slice(at + 1, bodyEnd - 1);
    } else {
      // One statement: up to its semicolon outside any brackets.
      let depth = 0;
      bodyEnd = at;
      for (; bodyEnd < source.length; bodyEnd++) {
        const c = source[bodyEnd];
        if (c === '(' || c === '{' || c === '[') depth++;
        else if (c === ')' || c === '}' || c === ']') depth--;
        else if (c === ';' && depth === 0) break;
      }
      bodyEnd++;
      body = source.slice(at, bodyEnd);
    }
    if (/^\s*else\b/.test(source.slice(bodyEnd))) return false;
    return onlyLogging(body);
  }
  return false;
}

function classify(file: FileResult, m: Mutant): Class {
  const start = offsetOf(file.source, m.location.start.line, m.location.start.column);
  const end = offsetOf(file.source, m.location.end.line, m.location.end.column);
  const inside = (spans: Array<[number, number]>) => spans.some(([a, b]) => a <= start && end <= b);
  if (inside(callSpans(file.source, /\blogger\.log\(/g)) || inside(callSpans(file.source, /\blog\(/g)))
    return 'logging';
  if (guardsOnlyLogging(file.source, start, end, m.mutatorName)) return 'logging';
  if (m.mutatorName === 'StringLiteral' || m.mutatorName === 'ObjectLiteral' || m.mutatorName === 'ArrayDeclaration') {
    const line = file.source.split('\n')[m.location.start.line - 1] ?? '';
    if (/\b(message|errorMessage)\s*:|new \w*Error\(/.test(line)) return 'message';
  }
  return 'gap';
}

/** One table row: counts, then the score three ways (all, without logging/message/equivalent, over contract breakers). */
function row(
  name: string,
  mutants: number,
  killed: number,
  c: { logging: number; message: number; equivalent: number; allowed: number; gap: number },
): string {
  const pct = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
  const meaningful = mutants - c.logging - c.message - c.equivalent;
  return `| ${name} | ${mutants} | ${killed} | ${pct(killed, mutants)} | ${c.logging} | ${c.message} | ${c.equivalent} | ${c.allowed} | ${c.gap} | ${pct(killed, meaningful)} | ${pct(killed, meaningful - c.allowed)} |`;
}

const rows: string[] = [];
const gaps: string[] = [];
let totals = { mutants: 0, killed: 0, survived: 0, logging: 0, message: 0, equivalent: 0, allowed: 0, gap: 0 };
const detected = new Set(['Killed', 'Timeout']);
/** Every survivor's note key (file:line:mutator), to name the notes that match none. */
const survivorKeys = new Set<string>();
for (const [name, file] of Object.entries(report.files).sort()) {
  const counted = file.mutants.filter((m) => m.status !== 'CompileError' && m.status !== 'Ignored');
  const killed = counted.filter((m) => detected.has(m.status)).length;
  const survivors = counted.filter((m) => !detected.has(m.status));
  const classes = { logging: 0, message: 0, equivalent: 0, allowed: 0, gap: 0 };
  for (const m of survivors) {
    const key = `${name}:${m.location.start.line}:${m.mutatorName}`;
    const atColumn = `${key}@${m.location.start.column}`;
    const exact = `${atColumn}=${m.replacement ?? ''}`;
    for (const k of [key, atColumn, exact]) survivorKeys.add(k);
    const note = notes[exact] ?? notes[atColumn] ?? notes[key];
    const ruled = classify(file, m);
    const c: Class =
      ruled !== 'gap'
        ? ruled
        : /^equivalent\b/.test(note ?? '')
          ? 'equivalent'
          : /^allowed\b/.test(note ?? '')
            ? 'allowed'
            : 'gap';
    classes[c]++;
    if (c === 'gap' || c === 'equivalent' || c === 'allowed') {
      const line = (file.source.split('\n')[m.location.start.line - 1] ?? '').trim().slice(0, 90);
      gaps.push(
        `| ${name}:${m.location.start.line} | ${m.mutatorName} | \`${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 50).replace(/\|/g, '\\|')}\` | \`${line.replace(/\|/g, '\\|')}\` | ${note ?? ''} |`,
      );
    }
  }
  rows.push(row(name, counted.length, killed, classes));
  totals = {
    mutants: totals.mutants + counted.length,
    killed: totals.killed + killed,
    survived: totals.survived + survivors.length,
    logging: totals.logging + classes.logging,
    message: totals.message + classes.message,
    equivalent: totals.equivalent + classes.equivalent,
    allowed: totals.allowed + classes.allowed,
    gap: totals.gap + classes.gap,
  };
}
const all = row('**all**', totals.mutants, totals.killed, totals);
const text = [
  '# Surviving mutants of runner/core (`pnpm mutation`)',
  '',
  'Generated by `node --import tsx bench/mutation/classify.ts` from the last `pnpm mutation` run; the',
  'rules are in that file. "killed" counts Stryker\'s killed and timed-out mutants; "equivalent" counts',
  'survivors argued equivalent one by one, "allowed" those argued one by one to leave the runner',
  'within its contract (their arguments are in the list below). "score without those three" is the',
  'score over the mutants that are not logging, message text or argued equivalent (the measure',
  'issue #17 set its goal in); "of contract breakers" leaves out the allowed ones too: the share of',
  'mutants that make the runner break a promise of its contract (or might) that the suite kills.',
  '',
  '| file | mutants | killed | score | logging | message | equivalent | allowed | gaps | score without those three | of contract breakers |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows,
  all,
  '',
  `## Survivors that change behaviour (${gaps.length}): ${totals.gap} gaps the suite did not catch, ${totals.allowed} argued allowed by the contract, ${totals.equivalent} argued equivalent`,
  '',
  '| where | mutator | replacement | line | note |',
  '|---|---|---|---|---|',
  ...gaps,
  '',
].join('\n');
writeFileSync(new URL('./SURVIVORS.md', import.meta.url), text);
// A note is keyed by its line: after the file changed, a note may point at a line that no longer
// holds the mutant it argues. Those matching no survivor are named, so they get re-keyed or dropped.
const unmatched = Object.keys(notes).filter((key) => !survivorKeys.has(key));
if (unmatched.length > 0)
  process.stderr.write(
    `classify: ${unmatched.length} note(s) in gap-notes.json match no survivor (the mutant killed since, or its line moved: re-key or drop):\n${unmatched.map((k) => `  ${k}`).join('\n')}\n`,
  );
console.log(rows.join('\n'));
console.log(all);
