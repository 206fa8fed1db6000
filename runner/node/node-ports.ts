// The remaining ports over Node: wall clock and timers, a state file, the hub over HTTP,
// crypto tokens, and JSON-lines logging.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request } from 'undici';
import type { Clock, HubClient, Logger, LogLevel, Random, RunnerPorts, StateStore, TimerHandle } from '../ports.ts';
import { NodeProcessHost, type NodeProcessHostOptions } from './node-process-host.ts';
import { GitWorktreeHost } from './git-worktree-host.ts';

export class NodeClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private next = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.next++;
    this.timers.set(
      timerId,
      setTimeout(() => {
        this.timers.delete(timerId);
        callback();
      }, delayMs),
    );
    return { timerId };
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(this.timers.get(handle.timerId));
    this.timers.delete(handle.timerId);
  }

  /** How many timers are pending (a harness asks whether the runner still has work scheduled). */
  pending(): number {
    return this.timers.size;
  }

  /** Cancels every pending timer (a runner instance that is being thrown away). */
  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

export class FileStateStore implements StateStore {
  constructor(private readonly path: string) {}

  async load(): Promise<string | null> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Written to a temporary file and renamed: a crash never leaves half a state file. */
  async save(contents: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, contents);
    await rename(temporary, this.path);
  }
}

export class HttpHubClient implements HubClient {
  constructor(private readonly baseUrl: string | undefined) {}

  async archiveSession(sessionId: string): Promise<void> {
    if (this.baseUrl === undefined) return;
    const response = await request(`${this.baseUrl}/sessions/${encodeURIComponent(sessionId)}/archive`, {
      method: 'POST',
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await response.body.dump();
    if (response.statusCode >= 400 && response.statusCode !== 404)
      throw new Error(`hub answered ${response.statusCode} to archive ${sessionId}`);
  }
}

export const cryptoRandom: Random = { token: () => randomBytes(16).toString('hex') };

export class JsonLinesLogger implements Logger {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly minimum: LogLevel = 'info',
  ) {}

  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void {
    const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
    if (order.indexOf(level) < order.indexOf(this.minimum)) return;
    this.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  }
}

export interface NodePortsOptions extends NodeProcessHostOptions {
  readonly statePath: string;
  readonly hubUrl?: string;
  readonly logger?: Logger;
}

/** The Node ports, each as its concrete class (a harness that instruments them needs no casts). */
export interface NodePorts extends RunnerPorts {
  readonly clock: NodeClock;
  readonly processes: NodeProcessHost;
  readonly worktrees: GitWorktreeHost;
  readonly hub: HttpHubClient;
  readonly state: FileStateStore;
}

export function nodePorts(options: NodePortsOptions): NodePorts {
  return {
    clock: new NodeClock(),
    processes: new NodeProcessHost(options),
    worktrees: new GitWorktreeHost(),
    hub: new HttpHubClient(options.hubUrl),
    state: new FileStateStore(options.statePath),
    random: cryptoRandom,
    logger: options.logger ?? new JsonLinesLogger(),
  };
}
