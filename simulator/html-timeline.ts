// A trace as one self-contained HTML picture (inline SVG and CSS, no script, nothing fetched),
// meant to be looked at rather than read:
// - a proportional time axis, cut where nothing happens for long (the cut says how long);
// - a lane per process tree, its life a bar from start to the last exit, coloured by who ended
//   it (the runner, the world, itself, or nobody: alive at the end);
// - requests and answers in a lane of their own, with an arrow to the tree each concerns;
// - lanes for the runner's lives, the hub, the worktrees, forged webhooks and bystanders;
// - each violation a numbered red mark where it happened, in the lane it concerns, and listed
//   with its message below. Hovering any mark shows its timeline line.
import type { Violation } from './oracle.ts';
import { formatMs } from './oracle.ts';
import type { TraceEvent } from './trace.ts';
import { describeEvent } from './timeline.ts';
import { buildTimeAxis, humanDuration, type TimeAxis } from './time-axis.ts';

export interface HtmlTimelineInput {
  readonly title: string;
  readonly subtitle?: string;
  readonly trace: readonly TraceEvent[];
  /** The violations the report names; every violation event of the trace is drawn. */
  readonly violations: readonly Violation[];
}

const WIDTH = 1600;
const LABEL_WIDTH = 170;
const RIGHT = 30;
const TOP = 64;
const LANE = 46;
/** How far apart numbered violation marks at one instant in one lane are drawn. */
const STACK_STEP = 22;
/** Past this many events the picture keeps only requests, answers, lives and violations. */
const MAX_DRAWN = 4_000;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** How a process tree's life ended. */
type Ending = 'runner' | 'world' | 'itself' | 'alive';

const ENDING_COLOR: Record<Ending, string> = {
  runner: '#f59e0b',
  world: '#64748b',
  itself: '#38bdf8',
  alive: '#dc2626',
};
const ENDING_TEXT: Record<Ending, string> = {
  runner: 'killed by the runner',
  world: 'killed from outside (a crash step)',
  itself: 'exited by itself',
  alive: 'still alive at the end',
};

interface Tree {
  readonly index: number;
  readonly pids: Set<number>;
  wrapperPid: number;
  start: number;
  end: number | undefined;
  wrapperEnd: number | undefined;
  alive: Set<number>;
  runnerSignalled: boolean;
  sessionId: string;
  ending: Ending;
}

/** The trees of the trace: which pids belong to which child, and how each life went. */
function treesOf(trace: readonly TraceEvent[]): Map<number, Tree> {
  const trees = new Map<number, Tree>();
  const owner = new Map<number, Tree>();
  for (const e of trace) {
    if (e.kind === 'process-start' && e.spawnIndex !== undefined) {
      let tree = trees.get(e.spawnIndex);
      if (tree === undefined) {
        tree = {
          index: e.spawnIndex,
          pids: new Set(),
          wrapperPid: e.pid,
          start: e.atMs,
          end: undefined,
          wrapperEnd: undefined,
          alive: new Set(),
          runnerSignalled: false,
          sessionId: `sess-${e.spawnIndex + 1}`,
          ending: 'alive',
        };
        trees.set(e.spawnIndex, tree);
      }
      if (e.role === 'wrapper') tree.wrapperPid = e.pid;
      tree.pids.add(e.pid);
      tree.alive.add(e.pid);
      tree.end = undefined;
      owner.set(e.pid, tree);
    } else if (e.kind === 'process-exit' && e.spawnIndex !== undefined) {
      const tree = trees.get(e.spawnIndex);
      if (tree === undefined) continue;
      tree.alive.delete(e.pid);
      if (e.pid === tree.wrapperPid) tree.wrapperEnd = e.atMs;
      if (tree.alive.size === 0) {
        tree.end = e.atMs;
        tree.ending = tree.runnerSignalled ? 'runner' : e.exit.signal !== null ? 'world' : 'itself';
      }
    } else if (e.kind === 'signal' && e.from === 'runner' && e.delivered) {
      const tree = owner.get(pidIn(e.target));
      if (tree !== undefined && tree.alive.size > 0) tree.runnerSignalled = true;
    }
  }
  return trees;
}

const pidIn = (text: string): number => Number(/(\d+)/.exec(text)?.[1]);

/** The child a violation concerns, when its message names one. */
function childOfMessage(message: string): number | undefined {
  const child = /child #(\d+)/.exec(message)?.[1];
  if (child !== undefined) return Number(child);
  const session = /\bsess-(\d+)\b/.exec(message)?.[1];
  return session !== undefined ? Number(session) - 1 : undefined;
}

/** The child an answer concerns: the pid it names, or the session a stop named. */
function childOfAnswer(
  event: Extract<TraceEvent, { kind: 'answer' }>,
  requests: Map<number, string>,
  pidToChild: Map<number, number>,
): number | undefined {
  const a = event.answer;
  if ('result' in a && a.op === 'spawn' && a.result.pid !== undefined) return pidToChild.get(a.result.pid);
  if (a.op === 'stop') {
    const session = /sess-(\d+)/.exec(requests.get(event.requestId) ?? '')?.[1];
    if (session !== undefined) return Number(session) - 1;
  }
  return undefined;
}

function answerWord(event: Extract<TraceEvent, { kind: 'answer' }>): { text: string; ok: boolean } {
  const a = event.answer;
  if ('failure' in a) return { text: 'dropped', ok: false };
  switch (a.op) {
    case 'spawn':
      return a.result.type === 'success' ? { text: 'ok', ok: true } : { text: a.result.reason, ok: false };
    case 'stop':
      return { text: a.result.status, ok: a.result.status === 'stopped' };
    case 'list':
      return { text: `${a.result.length} listed`, ok: true };
    case 'shutdown':
      return { text: 'shut down', ok: true };
  }
}

class Picture {
  readonly parts: string[] = [];
  constructor(
    readonly axis: TimeAxis,
    readonly laneY: (lane: string) => number,
  ) {}

  mark(kind: string, lane: string, atMs: number, shape: string, detail: string, label?: string, below = false): void {
    const x = this.axis.x(atMs);
    const y = this.laneY(lane);
    const text =
      label === undefined
        ? ''
        : `<text x="${x.toFixed(1)}" y="${y + (below ? 21 : -12)}" class="mark-label">${escape(label)}</text>`;
    this.parts.push(
      `<g class="event ${kind}" data-kind="${kind}" data-lane="${escape(lane)}"><title>${escape(detail)}</title>${shape.replaceAll('X', x.toFixed(1)).replaceAll('Y', String(y))}${text}</g>`,
    );
  }
}

const SHAPES = {
  circle: (color: string) => `<circle cx="X" cy="Y" r="6" fill="${color}"/>`,
  square: (color: string) => `<rect x="X" y="Y" width="12" height="12" transform="translate(-6 -6)" fill="${color}"/>`,
  diamond: (color: string) =>
    `<rect x="X" y="Y" width="11" height="11" transform="rotate(45 X Y) translate(-5.5 -5.5)" fill="${color}" stroke="#fff"/>`,
  triangle: (color: string) =>
    `<path d="M0 -8 L7 5 L-7 5 Z" transform="translate(X Y)" fill="${color}" stroke="#fff" stroke-width="1"/>`,
  cross: (color: string) =>
    `<path d="M-6 -6 L6 6 M6 -6 L-6 6" transform="translate(X Y)" stroke="${color}" stroke-width="3"/>`,
};

export function renderHtmlTimeline(input: HtmlTimelineInput): string {
  const all = input.trace.filter((e) => e.kind !== 'log' || e.level === 'error' || e.level === 'warn');
  const essential = (e: TraceEvent): boolean =>
    e.kind === 'request' ||
    e.kind === 'answer' ||
    e.kind === 'violation' ||
    e.kind === 'runner' ||
    ((e.kind === 'process-start' || e.kind === 'process-exit') && e.role === 'wrapper');
  const events = all.length > MAX_DRAWN ? all.filter(essential) : all;
  const trees = treesOf(input.trace);
  const pidToChild = new Map<number, number>();
  for (const tree of trees.values()) for (const pid of tree.pids) pidToChild.set(pid, tree.index);
  const requests = new Map<number, string>();
  for (const e of input.trace) if (e.kind === 'request') requests.set(e.requestId, e.detail);

  const treeLane = (index: number): string => `child #${index}`;
  const violationEvents = input.trace.filter(
    (e): e is Extract<TraceEvent, { kind: 'violation' }> => e.kind === 'violation',
  );
  const needs = (kind: TraceEvent['kind'], test: (e: TraceEvent) => boolean = () => true): boolean =>
    events.some((e) => e.kind === kind && test(e));
  const lanes = [
    'requests',
    'runner',
    ...[...trees.keys()].sort((a, b) => a - b).map(treeLane),
    ...(needs('webhook', (e) => e.kind === 'webhook' && (e.forged || !pidToChild.has(e.pid)))
      ? ['forged webhooks']
      : []),
    ...(needs('process-start', (e) => e.kind === 'process-start' && e.role === 'bystander') ? ['bystanders'] : []),
    ...(needs('hub') ? ['hub'] : []),
    ...(needs('worktree') ? ['worktrees'] : []),
  ];
  // A violation goes in the lane of the tree it names, a leaked worktree in the worktrees' lane,
  // the rest in a lane of their own.
  const laneOfViolation = (v: { invariant: string; message: string }): string => {
    const child = childOfMessage(v.message);
    if (child !== undefined && trees.has(child)) return treeLane(child);
    if (v.invariant === 'S3' && lanes.includes('worktrees')) return 'worktrees';
    return 'violations';
  };
  if (violationEvents.some((v) => laneOfViolation(v) === 'violations')) lanes.push('violations');
  const laneY = (lane: string): number => TOP + lanes.indexOf(lane) * LANE + LANE / 2;
  // The trace is in time order: its last event is its end (no spread over a trace of millions).
  const end = input.trace.at(-1)?.atMs ?? 0;
  // Numbered violation marks stack sideways: an instant with many in one lane needs room.
  const roomFor = (from: number, to: number): number => {
    const perLane = new Map<string, number>();
    for (const v of violationEvents) {
      if (v.atMs < from || v.atMs > to) continue;
      const key = `${childOfMessage(v.message) ?? 'none'}@${v.atMs}`;
      perLane.set(key, (perLane.get(key) ?? 0) + 1);
    }
    return Math.max(0, ...perLane.values()) * STACK_STEP;
  };
  const axis = buildTimeAxis(
    events.map((e) => e.atMs),
    LABEL_WIDTH + 10,
    WIDTH - RIGHT,
    roomFor,
  );
  const height = TOP + lanes.length * LANE + 30;
  const pic = new Picture(axis, laneY);
  const parts = pic.parts;

  // Lanes and their labels.
  lanes.forEach((lane, i) => {
    const y = TOP + i * LANE;
    const tree = lane.startsWith('child #') ? trees.get(Number(lane.slice(7))) : undefined;
    const label = tree !== undefined ? `child #${tree.index} · ${tree.sessionId}` : lane;
    const sub =
      tree !== undefined
        ? `pid ${tree.wrapperPid}${tree.pids.size > 1 ? ` +${tree.pids.size - 1}` : ''}: ${ENDING_TEXT[tree.ending]}`
        : '';
    parts.push(
      `<rect class="lane" data-lane="${escape(lane)}" x="0" y="${y}" width="${WIDTH}" height="${LANE}" fill="${i % 2 === 0 ? '#f8fafc' : '#eef2f7'}"/>`,
      `<text class="lane-label" x="10" y="${y + (sub === '' ? 28 : 20)}">${escape(label)}</text>`,
      sub === '' ? '' : `<text class="lane-sub" x="10" y="${y + 36}">${escape(sub)}</text>`,
    );
  });
  // The axis: ticks, and the cuts with the time they hide.
  for (const tick of axis.ticks()) {
    parts.push(
      `<line x1="${tick.x.toFixed(1)}" x2="${tick.x.toFixed(1)}" y1="${TOP - 6}" y2="${height - 30}" class="grid"/>`,
      `<text class="tick" x="${tick.x.toFixed(1)}" y="${TOP - 12}">${tick.label}</text>`,
    );
  }
  for (const cut of axis.breaks) {
    const mid = (cut.x0 + cut.x1) / 2;
    parts.push(
      `<g class="axis-break" data-hidden-ms="${cut.toMs - cut.fromMs}"><title>nothing happens for ${cut.label} (${formatMs(cut.fromMs)} to ${formatMs(cut.toMs)}): not drawn to scale</title>` +
        `<rect x="${cut.x0 + 6}" y="${TOP - 4}" width="${cut.x1 - cut.x0 - 12}" height="${height - TOP - 26}" fill="url(#cut)"/>` +
        `<text class="break-label" x="${mid}" y="${TOP - 32}">${escape(cut.label)}</text></g>`,
    );
  }
  // Lives: each tree a bar from its first start to its last exit (or the end, if it lives on);
  // the wrapper's own life a darker core; the runner's lives in its lane; worktrees from add to
  // remove.
  for (const tree of trees.values()) {
    const y = laneY(treeLane(tree.index));
    const x0 = axis.x(tree.start);
    const x1 = tree.end !== undefined ? axis.x(tree.end) : WIDTH - RIGHT + 10;
    const core = tree.wrapperEnd !== undefined ? axis.x(tree.wrapperEnd) : x1;
    parts.push(
      `<g class="life" data-ending="${tree.ending}" data-lane="${treeLane(tree.index)}"><title>child #${tree.index} (${tree.sessionId}): ${tree.pids.size} process(es), from ${formatMs(tree.start)} ${tree.end !== undefined ? `to ${formatMs(tree.end)}` : 'to the end and beyond'}; ${ENDING_TEXT[tree.ending]}</title>` +
        `<rect x="${x0.toFixed(1)}" y="${y - 9}" width="${Math.max(x1 - x0, 3).toFixed(1)}" height="18" rx="4" fill="${ENDING_COLOR[tree.ending]}" opacity="0.35"/>` +
        `<rect x="${x0.toFixed(1)}" y="${y - 4}" width="${Math.max(core - x0, 2).toFixed(1)}" height="8" rx="3" fill="${ENDING_COLOR[tree.ending]}"/>` +
        (tree.end === undefined
          ? `<path d="M${x1 - 10} ${y - 12} L${x1} ${y} L${x1 - 10} ${y + 12}" fill="${ENDING_COLOR.alive}"/>`
          : '') +
        `</g>`,
    );
  }
  const runnerStarts = input.trace.filter((e) => e.kind === 'runner');
  runnerStarts.forEach((e, i) => {
    if (e.kind !== 'runner' || e.op !== 'start') return;
    const crash = runnerStarts.slice(i + 1).find((n) => n.kind === 'runner' && n.op === 'crash');
    const x0 = axis.x(e.atMs);
    const x1 = crash !== undefined ? axis.x(crash.atMs) : WIDTH - RIGHT;
    parts.push(
      `<rect class="runner-life" x="${x0.toFixed(1)}" y="${laneY('runner') - 5}" width="${Math.max(x1 - x0, 2).toFixed(1)}" height="10" rx="3" fill="#94a3b8"><title>runner pid ${e.pid} up from ${formatMs(e.atMs)}${crash !== undefined ? ` to ${formatMs(crash.atMs)} (SIGKILLed)` : ''}</title></rect>`,
    );
  });
  const worktreeAdds = new Map<string, number>();
  for (const e of input.trace) {
    if (e.kind !== 'worktree') continue;
    if (e.op === 'add' && e.error === undefined) worktreeAdds.set(e.path, e.atMs);
    if (e.op === 'remove' && e.error === undefined && worktreeAdds.has(e.path)) {
      const from = worktreeAdds.get(e.path)!;
      worktreeAdds.delete(e.path);
      parts.push(worktreeBar(axis.x(from), axis.x(e.atMs), laneY('worktrees'), e.path, from, e.atMs, false));
    }
  }
  for (const [path, from] of worktreeAdds)
    parts.push(worktreeBar(axis.x(from), WIDTH - RIGHT, laneY('worktrees'), path, from, end, true));

  // Marks: requests and answers (with an arrow to their tree), signals, exits, webhooks, hub.
  let column = 0;
  for (const e of events) {
    const detail = `${formatMs(e.atMs)}  ${describeEvent(e).trim()}`;
    column++;
    switch (e.kind) {
      case 'request': {
        pic.mark(
          'request',
          'requests',
          e.atMs,
          SHAPES.circle('#2563eb'),
          detail,
          `#${e.requestId} ${e.op}`,
          column % 2 === 0,
        );
        const session = e.op === 'stop' ? /sess-(\d+)/.exec(e.detail)?.[1] : undefined;
        if (session !== undefined && trees.has(Number(session) - 1))
          parts.push(
            arrow(
              axis.x(e.atMs),
              laneY('requests'),
              laneY(treeLane(Number(session) - 1)),
              '#2563eb',
              `stop ${e.detail}`,
            ),
          );
        break;
      }
      case 'answer': {
        const word = answerWord(e);
        const color = word.ok ? '#16a34a' : '#ea580c';
        pic.mark(
          'answer',
          'requests',
          e.atMs,
          SHAPES.square(color),
          detail,
          `#${e.requestId} ${word.text}`,
          column % 2 === 0,
        );
        const child = childOfAnswer(e, requests, pidToChild);
        if (child !== undefined && trees.has(child))
          parts.push(arrow(axis.x(e.atMs), laneY('requests'), laneY(treeLane(child)), color, detail));
        break;
      }
      case 'process-start': {
        const lane =
          e.spawnIndex !== undefined ? treeLane(e.spawnIndex) : e.role === 'bystander' ? 'bystanders' : 'runner';
        if (e.role === 'runner') break; // the runner's life bar says it
        pic.mark('start', lane, e.atMs, SHAPES.circle('#0f766e'), detail);
        break;
      }
      case 'process-exit': {
        const lane =
          e.spawnIndex !== undefined ? treeLane(e.spawnIndex) : e.role === 'bystander' ? 'bystanders' : 'runner';
        pic.mark('exit', lane, e.atMs, SHAPES.cross('#334155'), detail);
        break;
      }
      case 'signal': {
        const child = pidToChild.get(pidIn(e.target));
        const lane = child !== undefined ? treeLane(child) : 'runner';
        const kill = e.signal === 'SIGKILL';
        pic.mark(
          'signal',
          lane,
          e.atMs,
          SHAPES.triangle(kill ? '#991b1b' : '#b45309'),
          detail,
          kill ? 'KILL' : 'TERM',
          true,
        );
        break;
      }
      case 'webhook': {
        const child = pidToChild.get(e.pid);
        const forged = e.forged || child === undefined;
        const lane = forged ? 'forged webhooks' : treeLane(child);
        pic.mark(
          'webhook',
          lane,
          e.atMs,
          SHAPES.diamond(forged ? '#7c3aed' : '#0891b2'),
          detail,
          forged ? 'forged webhook' : 'webhook',
        );
        break;
      }
      case 'hub':
        pic.mark('hub', 'hub', e.atMs, SHAPES.diamond('#0369a1'), detail, `${e.op} ${e.sessionId}`, column % 2 === 0);
        break;
      case 'worktree':
        if (e.error !== undefined)
          pic.mark('worktree', 'worktrees', e.atMs, SHAPES.cross('#b91c1c'), detail, `${e.op} failed`);
        break;
      case 'runner':
        pic.mark(
          'runner',
          'runner',
          e.atMs,
          SHAPES.square(e.op === 'crash' ? '#b91c1c' : '#334155'),
          detail,
          e.op === 'crash' ? 'crash' : 'start',
        );
        break;
      case 'log':
        pic.mark('log', 'runner', e.atMs, SHAPES.circle(e.level === 'error' ? '#b91c1c' : '#a16207'), detail);
        break;
      case 'violation':
        break; // below, on top of everything
    }
  }
  // Violations: a numbered red mark where each happened, in the lane it concerns.
  const stacked = new Map<string, number>();
  violationEvents.forEach((v, i) => {
    const lane = laneOfViolation(v);
    const x = axis.x(v.atMs);
    const key = `${lane}@${Math.round(x / STACK_STEP)}`;
    const nth = stacked.get(key) ?? 0;
    stacked.set(key, nth + 1);
    const cx = x + nth * STACK_STEP;
    const y = laneY(lane);
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${TOP}" y2="${height - 30}" class="violation-band"/>`,
      `<g class="event violation" data-kind="violation" data-lane="${escape(lane)}"><title>${escape(`${formatMs(v.atMs)}  ${describeEvent(v).trim()}`)}</title>` +
        `<circle cx="${cx.toFixed(1)}" cy="${y}" r="10" fill="#dc2626" stroke="#fff" stroke-width="2"/>` +
        `<text x="${cx.toFixed(1)}" y="${y + 4}" class="violation-number">${i + 1}</text></g>`,
    );
  });

  const byInvariant = new Map<string, number>();
  for (const v of violationEvents) byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
  const heading =
    violationEvents.length === 0
      ? 'No violations'
      : `${violationEvents.length} ${violationEvents.length === 1 ? 'violation' : 'violations'} (${[...byInvariant].map(([id, n]) => `${id} ×${n}`).join(', ')})`;
  const items = violationEvents
    .map(
      (v, i) =>
        `<li class="violation" value="${i + 1}"><b>${v.invariant}</b> at ${formatMs(v.atMs)}: ${escape(v.message)}</li>`,
    )
    .join('');
  const omitted =
    events.length < all.length
      ? `<p class="note">${all.length - events.length} of ${all.length} events not drawn (signals, exits and webhooks of a very big run); the text timeline has them all.</p>`
      : '';
  const legend = [
    ...(['runner', 'world', 'itself', 'alive'] as const).map(
      (ending) => `<span><i style="background:${ENDING_COLOR[ending]}"></i>tree ${ENDING_TEXT[ending]}</span>`,
    ),
    '<span><b style="color:#2563eb">●</b> request</span>',
    '<span><b style="color:#16a34a">■</b> answer (orange: an error)</span>',
    '<span><b style="color:#b45309">▲</b> signal (dark red: SIGKILL)</span>',
    '<span><b style="color:#334155">✕</b> exit</span>',
    '<span><b style="color:#0891b2">◆</b> webhook / hub row</span>',
    '<span><b style="color:#dc2626">●</b> violation, numbered as listed</span>',
  ].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 16px 20px; color: #0f172a; }
h1 { font-size: 22px; margin: 0 0 4px; } .sub { color: #475569; margin: 0 0 10px; }
h2 { font-size: 18px; color: #991b1b; margin: 18px 0 6px; }
svg { width: 100%; height: auto; display: block; border: 1px solid #cbd5e1; }
svg text { font-family: system-ui, sans-serif; }
.lane-label { font-size: 15px; font-weight: 600; fill: #0f172a; } .lane-sub { font-size: 12px; fill: #475569; }
.tick { font-size: 12px; fill: #334155; text-anchor: middle; } .grid { stroke: #cbd5e1; stroke-width: 1; }
.break-label { font-size: 12px; fill: #475569; text-anchor: middle; font-style: italic; }
.mark-label { font-size: 12px; fill: #1e293b; text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.violation-band { stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 4 4; opacity: 0.6; }
.violation-number { font-size: 12px; font-weight: 700; fill: #fff; text-anchor: middle; }
ol.violations { color: #7f1d1d; } li.violation { margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 13px; margin: 8px 0; }
.legend i { display: inline-block; width: 22px; height: 10px; border-radius: 3px; margin-right: 6px; vertical-align: middle; }
.note { color: #475569; font-size: 13px; }
</style></head>
<body>
<h1>${escape(input.title)}</h1>
${input.subtitle !== undefined && input.subtitle !== '' ? `<p class="sub">${escape(input.subtitle)}</p>` : ''}
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escape(input.title)}">
<defs><pattern id="cut" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="8" fill="#cbd5e1"/></pattern></defs>
${parts.filter((p) => p !== '').join('\n')}
</svg>
<p class="note">Time runs left to right in proportion, except at the hatched cuts, each labelled with the time it leaves out. Hover a mark for its line of the timeline.</p>
${omitted}
<h2>${heading}</h2>
<ol class="violations">${items}</ol>
</body></html>
`;
}

function arrow(x: number, fromY: number, toY: number, color: string, detail: string): string {
  const dir = toY > fromY ? 1 : -1;
  const tip = toY - 12 * dir;
  return (
    `<g class="arrow"><title>${escape(detail)}</title>` +
    `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${fromY + 8 * dir}" y2="${tip}" stroke="${color}" stroke-width="1.5" opacity="0.7"/>` +
    `<path d="M${(x - 4).toFixed(1)} ${tip - 6 * dir} L${x.toFixed(1)} ${tip} L${(x + 4).toFixed(1)} ${tip - 6 * dir} Z" fill="${color}" opacity="0.8"/></g>`
  );
}

function worktreeBar(x0: number, x1: number, y: number, path: string, from: number, to: number, left: boolean): string {
  const color = left ? '#dc2626' : '#65a30d';
  const name = path.split('/').at(-1) ?? path;
  return (
    `<g class="worktree-life" data-left="${left}"><title>worktree ${escape(path)}: added ${formatMs(from)}, ${left ? 'never removed' : `removed ${formatMs(to)} (${humanDuration(to - from)} later)`}</title>` +
    `<rect x="${x0.toFixed(1)}" y="${y - 6}" width="${Math.max(x1 - x0, 3).toFixed(1)}" height="12" rx="3" fill="${color}" opacity="0.5"/>` +
    `<text x="${(x0 + 4).toFixed(1)}" y="${y - 10}" class="mark-label" style="text-anchor:start">${escape(name)}</text></g>`
  );
}
