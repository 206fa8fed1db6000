// The filesystem under the worktree model: the few synchronous calls `git worktree add/remove/
// list` needs. memfs (a whole in-memory fs, as the design names) is what the virtual world
// uses; `bench/properties.bench.ts` measures it against a plain Map (map-fs.ts) behind the same port.
import { Volume } from 'memfs';

/** The calls the worktree model makes, with node:fs's semantics (errors carry `code`). */
export interface WorktreeFs {
  mkdirSync(path: string, options?: { recursive?: boolean }): unknown;
  rmdirSync(path: string): void;
  rmSync(path: string, options: { recursive: true; force: true }): void;
  writeFileSync(path: string, data: string): void;
  readFileSync(path: string, encoding: 'utf8'): string | Buffer;
  readdirSync(path: string): unknown;
  existsSync(path: string): boolean;
  /**
   * The world is done with this filesystem: it may be emptied and handed to another world. Any
   * call after this throws.
   */
  release?(): void;
}

/** Makes the filesystem of one world. */
export type WorktreeFsFactory = () => WorktreeFs;

/** memfs asks "the process" for uid, gid and cwd; the virtual world answers, not the real one. */
const VIRTUAL_PROCESS = {
  cwd: () => '/',
  platform: 'linux' as const,
  emitWarning: () => {},
  env: {},
  getuid: () => 1000,
  getgid: () => 1000,
};

/**
 * memfs's file nodes ask the global `process` for the uid and gid, twice as each node is made and
 * again on each permission check: a system call each time, and the largest single cost of a world
 * that makes worktrees (9% of a profile). Each call into the volume answers them from the virtual
 * process instead, and puts the real ones back before it returns: the calls are synchronous, so
 * nothing else can run in between and see the stand-ins.
 */
function asVirtualUser<T>(call: () => T): T {
  // (Optional in the types: Windows has neither.)
  const ids = process as { getuid?: (() => number) | undefined; getgid?: (() => number) | undefined };
  const real = { getuid: ids.getuid, getgid: ids.getgid };
  ids.getuid = VIRTUAL_PROCESS.getuid;
  ids.getgid = VIRTUAL_PROCESS.getgid;
  try {
    return call();
  } finally {
    ids.getuid = real.getuid;
    ids.getgid = real.getgid;
  }
}

/**
 * Volumes emptied for the next world: making a memfs Volume costs about 70 us, emptying one (its
 * `reset()`) about 10. At most this many are kept (one per world alive at once is the need).
 */
const SPARE_VOLUMES_KEPT = 8;
const spareVolumes: Volume[] = [];

/**
 * A memfs volume, empty: a spare one emptied by an earlier world when there is one. (memfs's
 * Volume has the fs sync API itself; wrapping it with createFsFromVolume costs more than the rest
 * of a run.)
 */
export const memfsWorktreeFs: WorktreeFsFactory = () => {
  let volume: Volume | undefined =
    spareVolumes.pop() ?? asVirtualUser(() => Volume.fromJSON({}, '/', { process: VIRTUAL_PROCESS }));
  const live = (): Volume => {
    if (volume === undefined) throw new Error('worktree filesystem used after its world released it');
    return volume;
  };
  return {
    mkdirSync: (path, options) => asVirtualUser(() => live().mkdirSync(path, options)),
    rmdirSync: (path) => asVirtualUser(() => live().rmdirSync(path)),
    rmSync: (path, options) => asVirtualUser(() => live().rmSync(path, options)),
    writeFileSync: (path, data) => asVirtualUser(() => live().writeFileSync(path, data)),
    readFileSync: (path, encoding) => asVirtualUser(() => live().readFileSync(path, encoding)),
    readdirSync: (path) => asVirtualUser(() => live().readdirSync(path)),
    existsSync: (path) => asVirtualUser(() => live().existsSync(path)),
    release: () => {
      const done = volume;
      volume = undefined;
      if (done === undefined || spareVolumes.length >= SPARE_VOLUMES_KEPT) return;
      asVirtualUser(() => done.reset());
      spareVolumes.push(done);
    },
  };
};
