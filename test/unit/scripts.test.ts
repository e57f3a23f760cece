import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { applyScript, factsScript, parseApplyOutput, parseFactsOutput } from '../../src/runner/scripts.js';

const sh = (s: string) => spawnSync('sh', ['-s'], { input: s, encoding: 'utf8' }).stdout;

describe('facts and apply scripts', () => {
  it('gathers each fact byte-exact with its exit code', () => {
    const facts = [
      { key: 'a', command: "printf '  two spaces\\n\\n'", parse: (o: string) => o },
      { key: 'b', command: 'echo x; exit 3', parse: (o: string) => o },
      { key: 'c', command: 'cat', parse: (o: string) => o }, // stdin is /dev/null: must not eat the script
    ];
    const out = parseFactsOutput(sh(factsScript(facts)), 3);
    expect(out[0]).toEqual({ stdout: '  two spaces\n\n', code: 0 });
    expect(out[1]).toEqual({ stdout: 'x\n', code: 3 });
    expect(out[2]).toEqual({ stdout: '', code: 0 });
  });

  it('stops at the first failing step and reports skips', () => {
    const script = applyScript([
      { id: 0, script: 'echo one' },
      { id: 1, script: "printf '\\036SKIP not settable here\\n'" },
      { id: 2, script: 'false\necho never' },
      { id: 3, script: 'echo not reached' },
    ]);
    const r = parseApplyOutput(sh(script));
    expect(r.steps.map((s) => [s.id, s.code])).toEqual([[0, 0], [1, 0], [2, 1]]);
    expect(r.steps[1].skips).toEqual(['not settable here']);
    expect(r.steps[2].output).toBe('');
    expect(r.complete).toBe(false);
  });
});
