// How a failed read of /proc is taken: "gone" or "not ours" only when the error says so. Any
// other failure (no descriptor left) must not make a scan report a live process gone.
import { describe, expect, it } from 'vitest';
import { readEnviron, readProcFile, readStat } from './proc.ts';

const failing = (code: string) => (): string => {
  throw Object.assign(new Error(`${code}: injected`), { code });
};

describe('reading /proc', () => {
  it('takes ENOENT and ESRCH for gone, EACCES and EPERM for not ours: undefined, strict or not', () => {
    for (const code of ['ENOENT', 'ESRCH', 'EACCES', 'EPERM']) {
      expect(readProcFile('/proc/1/environ', true, failing(code))).toBeUndefined();
      expect(readProcFile('/proc/1/stat', false, failing(code))).toBeUndefined();
    }
  });

  it('throws any other failure when strict (a scan), rather than report a live process gone', () => {
    for (const code of ['EMFILE', 'ENFILE', 'ENOMEM', 'EIO']) {
      expect(() => readProcFile('/proc/1/environ', true, failing(code))).toThrow(code);
      // A single look by PID (generationOf) still answers: that port cannot reject.
      expect(readProcFile('/proc/1/stat', false, failing(code))).toBeUndefined();
    }
  });

  it('reads this process through the real file system', () => {
    expect(readStat(process.pid, true)?.pid).toBe(process.pid);
    expect(readEnviron(process.pid)?.size).toBeGreaterThan(0);
    expect(readStat(2 ** 22 + 1, true)).toBeUndefined(); // above pid_max: ENOENT, gone
  });
});
