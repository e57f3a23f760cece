import { describe, expect, it } from 'vitest';
import { treeReporter } from '../../src/report/tree.js';
import { plainReporter } from '../../src/report/plain.js';
import type { RunEvent } from '../../src/report/events.js';

const counts = { ok: 3, changed: 1, skipped: 0, failed: 0, unreachable: 0 };
const events: RunEvent[] = [
  { type: 'run-start', playbook: 'site.yml', inventory: 'inv', hosts: ['a', 'b'], check: false, phases: ['one', 'two'] },
  { type: 'phase-start', phase: 'one', index: 1, hosts: ['a', 'b'] },
  { type: 'host-start', phase: 'one', host: 'a' },
  { type: 'host-start', phase: 'one', host: 'b' },
  { type: 'op-result', phase: 'one', host: 'a', result: { kind: 'file', name: '/etc/x', role: 'r', status: 'changed', reason: 'content differs (secret-value)' } },
  { type: 'host-end', phase: 'one', host: 'a', counts, elapsedMs: 120 },
  { type: 'op-result', phase: 'one', host: 'b', result: { kind: 'command', name: 'boom', role: 'r', status: 'failed', reason: 'exit 7: boom', output: 'boom' } },
  { type: 'host-failed', phase: 'one', host: 'b', error: 'command boom: exit 7', unreachable: false },
  { type: 'phase-end', phase: 'one', index: 1, elapsedMs: 130 },
  { type: 'run-aborted', phase: 'one', reason: 'max_fail_percentage 0 exceeded' },
  {
    type: 'recap',
    hosts: { a: { ...counts, elapsedMs: 120 }, b: { ok: 0, changed: 0, skipped: 0, failed: 1, unreachable: 0, elapsedMs: 100 } },
    elapsedMs: 140,
    exitCode: 2,
    resumeFrom: 'one',
  },
];
const mask = (s: string) => s.replaceAll('secret-value', '***');

describe('reporters', () => {
  it('plain: changes, failures, abort and the recap with the phase to resume from', () => {
    let out = '';
    const r = plainReporter({ write: (s) => (out += s), mask });
    events.forEach(r);
    expect(out).toContain('a CHANGED  r file /etc/x: content differs (***)');
    expect(out).toContain('b FAILED   r command boom: exit 7: boom');
    expect(out).toContain('b FAILED in phase one: command boom: exit 7');
    expect(out).toContain('ABORTED in phase one: max_fail_percentage 0 exceeded');
    expect(out).toMatch(/^b +0 +0 +0 +1 +0 +0\.10s$/m);
    expect(out).toContain('resume after fixing with: --from-phase "one"');
    expect(out).not.toContain('secret-value');
  });

  it('tree (listr2): finishes after the recap even when a phase never ran, then prints failures and the recap', async () => {
    let out = '';
    const t = treeReporter(mask, (s) => (out += s));
    for (const e of events) {
      t.sink(e);
      await new Promise((r) => setImmediate(r));
    }
    await t.done();
    expect(out).toContain('b FAILED command boom: exit 7: boom');
    expect(out).toMatch(/^a +3 +1 +0 +0 +0 +0\.12s$/m);
    expect(out).toContain('total 0.14s, exit 2');
  });
});
