// How a failed read of /proc is taken: "gone" or "not ours" only when the error says so. Any
// other failure (no descriptor left) must not make a scan report a live process gone.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
      // Not strict (signalIfSame: signal only the process seen), any failure answers undefined: no signal.
      expect(readProcFile('/proc/1/stat', false, failing(code))).toBeUndefined();
    }
  });

  it('reads this process through the real file system', () => {
    expect(readStat(process.pid, true)?.pid).toBe(process.pid);
    expect(readEnviron(process.pid)?.size).toBeGreaterThan(0);
    expect(readStat(2 ** 22 + 1, true)).toBeUndefined(); // above pid_max: ENOENT, gone
  });

  it('out of descriptors for real (ulimit -n): a look by PID throws HostError EMFILE and a scan rejects; neither says gone', () => {
    // A child process of ours, with a descriptor limit it then uses up; it exits by itself (the
    // timeout would end it, by the PID execFileSync started).
    const host = fileURLToPath(new URL('./node-process-host.ts', import.meta.url));
    const script = `
      const { openSync } = await import('node:fs');
      const { NodeProcessHost } = await import(${JSON.stringify(host)});
      const ports = new NodeProcessHost();
      try { for (let i = 0; i < 1000; i++) openSync('/dev/null', 'r'); } catch {}
      const said = {};
      try { said.look = ports.generationOf(process.pid); } catch (e) { said.look = e.name + ' ' + e.code; }
      try { said.scan = (await ports.findByEnv('X', 'y')).length; } catch (e) { said.scan = e.code; }
      console.log(JSON.stringify(said));`;
    const out = execFileSync(
      'bash',
      ['-c', 'ulimit -n 64 && exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ look: 'HostError EMFILE', scan: 'EMFILE' });
  });
});
