import { describe, expect, it } from 'vitest';
import { childResume } from './resume-key.ts';

describe('childResume: the conversation a spawn really asked its agent to resume', () => {
  const spec = (args: string[], env: Record<string, string> = {}, resumeSessionId?: string) => ({
    args,
    env,
    ...(resumeSessionId !== undefined ? { resumeSessionId } : {}),
  });

  it('takes a declared key that an argument or an environment value carries, however spelled', () => {
    expect(childResume(spec(['--resume', 'conv-a'], {}, 'conv-a'))).toEqual({ resumeKey: 'conv-a' });
    expect(childResume(spec(['--resume=conv-a'], {}, 'conv-a'))).toEqual({ resumeKey: 'conv-a' });
    expect(childResume(spec([], { AGENT_SESSION: 'conv-a' }, 'conv-a'))).toEqual({ resumeKey: 'conv-a' });
  });

  it('calls a declared key that reaches the agent by neither way not passed', () => {
    expect(childResume(spec(['--started-by', 'runner'], { OTHER: 'x' }, 'conv-a'))).toEqual({
      resumeKeyNotPassed: 'conv-a',
    });
    expect(childResume(spec([], {}, 'conv-a'))).toEqual({ resumeKeyNotPassed: 'conv-a' });
  });

  it('reads no key from the arguments when none was declared', () => {
    expect(childResume(spec(['--resume', 'conv-a']))).toEqual({});
  });
});
