// A trace as one self-contained HTML file (inline CSS and SVG, no script, nothing fetched): a lane
// per child's process tree, one each for the requests, the hub, the worktrees, the runner and
// the bystanders; one column per event, the virtual time above it; the violations marked in red
// where they happened, and listed with their messages below.
import type { Violation } from './oracle.ts';
import { formatMs } from './oracle.ts';
import type { TraceEvent } from './trace.ts';
import { describeEvent } from './timeline.ts';

export interface HtmlTimelineInput {
  readonly title: string;
  readonly subtitle?: string;
  readonly trace: readonly TraceEvent[];
  readonly violations: readonly Violation[];
}

const COLUMN = 30;
const LANE = 44;
const LABEL_WIDTH = 190;
const TOP = 110;
const MAX_COLUMNS = 600;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Shape = 'circle' | 'cross' | 'triangle' | 'square' | 'diamond' | 'bar';

interface Mark {
  readonly column: number;
  readonly lane: string;
  readonly shape: Shape;
  readonly kind: string;
  readonly color: string;
  readonly label: string;
  readonly detail: string;
}

/** Which lane an event belongs in: by the child whose tree it touches, when that is known. */
function laneOf(event: TraceEvent, pidToChild: Map<number, number>): string {
  switch (event.kind) {
    case 'request':
    case 'answer':
      return 'requests';
    case 'process-start':
    case 'process-exit':
      if (event.spawnIndex !== undefined) return `child #${event.spawnIndex}`;
      return event.role === 'bystander' ? 'bystanders' : 'runner';
    case 'signal': {
      const pid = Number(/(\d+)/.exec(event.target)?.[1]);
      const child = pidToChild.get(pid);
      return child !== undefined ? `child #${child}` : 'runner';
    }
    case 'webhook': {
      const child = pidToChild.get(event.pid);
      return child !== undefined && !event.forged ? `child #${child}` : 'forged webhooks';
    }
    case 'hub': {
      const index = /^sess-(\d+)$/.exec(event.sessionId)?.[1];
      return index !== undefined ? `child #${Number(index) - 1}` : 'hub';
    }
    case 'worktree':
      return 'worktrees';
    case 'runner':
    case 'log':
      return 'runner';
    case 'violation':
      return 'violations';
  }
}

function markOf(event: TraceEvent): Pick<Mark, 'shape' | 'color' | 'label' | 'kind'> {
  switch (event.kind) {
    case 'request':
      return { kind: 'request', shape: 'circle', color: '#2563eb', label: `#${event.requestId} ${event.op}` };
    case 'answer': {
      const a = event.answer;
      const ok = 'result' in a && (a.op !== 'spawn' || a.result.type === 'success');
      const short =
        'failure' in a
          ? 'dropped'
          : a.op === 'spawn'
            ? a.result.type === 'success'
              ? 'ok'
              : a.result.reason
            : a.op === 'stop'
              ? a.result.status
              : a.op;
      return {
        kind: 'answer',
        shape: 'square',
        color: ok ? '#16a34a' : '#ea580c',
        label: `#${event.requestId} ${short}`,
      };
    }
    case 'process-start':
      return { kind: 'start', shape: 'circle', color: '#0f766e', label: `+${event.pid}` };
    case 'process-exit':
      return { kind: 'exit', shape: 'cross', color: '#475569', label: `x${event.pid}` };
    case 'signal':
      return {
        kind: 'signal',
        shape: 'triangle',
        color: event.signal === 'SIGKILL' ? '#991b1b' : '#b45309',
        label: event.signal === 'SIGKILL' ? 'KILL' : 'TERM',
      };
    case 'webhook':
      return {
        kind: 'webhook',
        shape: 'square',
        color: event.forged ? '#7c3aed' : '#0891b2',
        label: event.forged ? 'forged' : 'webhook',
      };
    case 'hub':
      return { kind: 'hub', shape: 'diamond', color: '#0369a1', label: `hub ${event.op}` };
    case 'worktree':
      return {
        kind: 'worktree',
        shape: 'diamond',
        color: event.error !== undefined ? '#b91c1c' : '#4d7c0f',
        label: `${event.op}${event.error !== undefined ? ' failed' : ''}`,
      };
    case 'runner':
      return { kind: 'runner', shape: 'bar', color: event.op === 'crash' ? '#b91c1c' : '#334155', label: event.op };
    case 'log':
      return {
        kind: 'log',
        shape: 'circle',
        color: event.level === 'error' ? '#b91c1c' : '#a16207',
        label: event.level,
      };
    case 'violation':
      return { kind: 'violation', shape: 'bar', color: '#dc2626', label: event.invariant };
  }
}

function shapeSvg(mark: Mark, x: number, y: number): string {
  const c = mark.color;
  switch (mark.shape) {
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="6" fill="${c}"/>`;
    case 'square':
      return `<rect x="${x - 6}" y="${y - 6}" width="12" height="12" fill="${c}"/>`;
    case 'diamond':
      return `<polygon points="${x},${y - 8} ${x + 8},${y} ${x},${y + 8} ${x - 8},${y}" fill="${c}"/>`;
    case 'triangle':
      return `<polygon points="${x - 7},${y + 6} ${x + 7},${y + 6} ${x},${y - 7}" fill="${c}"/>`;
    case 'cross':
      return `<path d="M${x - 6} ${y - 6} L${x + 6} ${y + 6} M${x + 6} ${y - 6} L${x - 6} ${y + 6}" stroke="${c}" stroke-width="3"/>`;
    case 'bar':
      return `<rect x="${x - 4}" y="${y - 14}" width="8" height="28" fill="${c}"/>`;
  }
}

export function renderHtmlTimeline(input: HtmlTimelineInput): string {
  const pidToChild = new Map<number, number>();
  const events = input.trace.filter((e) => e.kind !== 'log' || e.level === 'error' || e.level === 'warn');
  const shown = events.slice(0, MAX_COLUMNS);
  const marks: Mark[] = shown.map((event, column) => {
    if (event.kind === 'process-start' && event.spawnIndex !== undefined) pidToChild.set(event.pid, event.spawnIndex);
    return {
      column,
      lane: laneOf(event, pidToChild),
      ...markOf(event),
      detail: `${formatMs(event.atMs)}  ${describeEvent(event).trim()}`,
    };
  });
  const fixedTop = ['violations', 'requests', 'runner'];
  const children = [...new Set(marks.map((m) => m.lane).filter((l) => l.startsWith('child #')))].sort(
    (a, b) => Number(a.slice(7)) - Number(b.slice(7)),
  );
  const fixedBottom = ['forged webhooks', 'hub', 'worktrees', 'bystanders'].filter((l) =>
    marks.some((m) => m.lane === l),
  );
  const lanes = [...fixedTop, ...children, ...fixedBottom];
  const laneY = (lane: string): number => TOP + lanes.indexOf(lane) * LANE + LANE / 2;
  const x = (column: number): number => LABEL_WIDTH + column * COLUMN + COLUMN / 2;
  const width = LABEL_WIDTH + Math.max(shown.length, 10) * COLUMN + 40;
  const height = TOP + lanes.length * LANE + 20;

  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    const y = TOP + i * LANE;
    parts.push(
      `<rect class="lane" data-lane="${escape(lane)}" x="0" y="${y}" width="${width}" height="${LANE}" fill="${i % 2 === 0 ? '#f8fafc' : '#eef2f7'}"/>`,
    );
    parts.push(
      `<text class="lane-label" x="10" y="${y + LANE / 2 + 5}" font-size="14" fill="${lane === 'violations' ? '#dc2626' : '#0f172a'}">${escape(lane)}</text>`,
    );
  });
  let lastTime = '';
  for (const [column, event] of shown.entries()) {
    const time = formatMs(event.atMs);
    if (time !== lastTime) {
      parts.push(
        `<text class="time" x="${x(column)}" y="${TOP - 8}" font-size="11" fill="#334155" transform="rotate(-55 ${x(column)} ${TOP - 8})">${time}</text>`,
      );
      lastTime = time;
    }
  }
  for (const mark of marks) {
    if (mark.kind === 'violation') {
      parts.push(
        `<rect class="violation-band" x="${x(mark.column) - COLUMN / 2}" y="${TOP}" width="${COLUMN}" height="${lanes.length * LANE}" fill="#fecaca" opacity="0.55"/>`,
      );
    }
  }
  for (const mark of marks) {
    const y = laneY(mark.lane);
    parts.push(
      `<g class="event ${mark.kind}" data-kind="${mark.kind}" data-lane="${escape(mark.lane)}"><title>${escape(mark.detail)}</title>${shapeSvg(mark, x(mark.column), y)}` +
        // Labels of neighbouring columns alternate above and below, so they do not overlap.
        `<text x="${x(mark.column)}" y="${mark.column % 2 === 0 ? y + 19 : y - 11}" font-size="9" text-anchor="middle" fill="#334155">${escape(mark.label)}</text></g>`,
    );
  }
  const truncated =
    events.length > shown.length
      ? `<p class="note">${events.length - shown.length} later events not drawn; the text timeline has them all.</p>`
      : '';
  const violationItems = input.violations
    .map((v) => `<li class="violation"><b>${v.invariant}</b> at ${formatMs(v.atMs)}: ${escape(v.message)}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 16px; color: #0f172a; }
h1 { font-size: 20px; margin: 0 0 4px; } .sub { color: #475569; margin: 0 0 12px; }
.scroll { overflow-x: auto; border: 1px solid #cbd5e1; }
ol.violations { color: #991b1b; } li.violation { margin: 4px 0; }
.legend span { margin-right: 14px; font-size: 12px; }
</style></head>
<body>
<h1>${escape(input.title)}</h1>
${input.subtitle !== undefined ? `<p class="sub">${escape(input.subtitle)}</p>` : ''}
<p class="legend"><span>&#9679; request / process start</span><span>&#9632; answer / webhook</span><span>&#9650; signal</span><span>&#10005; exit</span><span>&#9670; hub / worktree</span><span style="color:#dc2626">&#9646; violation</span></p>
<div class="scroll"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${parts.join('\n')}
</svg></div>
${truncated}
<h2>${input.violations.length === 0 ? 'No violations' : `${input.violations.length} violation(s)`}</h2>
<ol class="violations">${violationItems}</ol>
</body></html>
`;
}
