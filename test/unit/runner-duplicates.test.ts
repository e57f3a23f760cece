/**
 * Two roles of one host stating the same resource alike (zookeeper, kafka and spark each create user spark on
 * spark-kafka-aws's master): one change is made, the other roles' operations are reported ok, naming the one that
 * made it, and their handlers still run; a resource stated differently by two roles is left to each.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/runner/run.js';
import { localConnection } from '../../src/transport/local.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';
import { defineRole } from '../../src/role/define.js';
import type { RunEvent } from '../../src/report/events.js';
import { testPlan } from './runner-harness.js';

/** a resource whose change is not idempotent (like useradd): it appends to a log and makes a marker */
function once(dir: string, tag: string, notify: string[]): Operation<boolean> {
  const marker = join(dir, 'marker');
  return {
    kind: 'user',
    name: 'spark',
    notify,
    fact: { key: 'user:spark', command: `test -f ${q(marker)}`, parse: (_o, code) => code === 0 },
    plan: (exists): Plan =>
      exists ? { status: 'ok', reason: 'exists' } : { status: 'change', reason: 'create', script: `test ! -f ${q(marker)} && printf '%s\\n' ${q(tag)} >> ${q(join(dir, 'log'))} && touch ${q(marker)}` },
  };
}

function planOf(dir: string, tags: [string, string]) {
  const plan = testPlan(['a'], [{ name: 'p', ops: () => [once(dir, tags[0], ['first'])] }]);
  const second = defineRole({ name: 'second', description: 'test', vars: {}, operations: () => [once(dir, tags[1], ['second'])] });
  plan.phases[0].hosts[0].roles.push({ name: 'second', def: second, vars: {} });
  return plan;
}
const run = async (dir: string, tags: [string, string]) => {
  const events: RunEvent[] = [];
  const handlerScript = (n: string) => `echo handler-${n} >> ${q(join(dir, 'log'))}`;
  const code = await runPlan(planOf(dir, tags), { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection(), handlerScript });
  return { code, events };
};

describe('one resource stated alike by two roles of a host', () => {
  it('is changed once; the second is reported ok naming the first; both handlers run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-dup-'));
    const { code, events } = await run(dir, ['same', 'same']);
    expect(code).toBe(0);
    const results = events.flatMap((e) => (e.type === 'op-result' ? [`${e.result.role} ${e.result.status}: ${e.result.reason}`] : []));
    // (ok results are reported before the apply, changes after it)
    expect(results).toEqual(["second ok: the same change as role r0's user spark in this phase: made once", 'r0 changed: create']);
    expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('same\nhandler-first\nhandler-second\n');
    // a rerun: nothing
    const again = await run(dir, ['same', 'same']);
    expect(again.events.some((e) => e.type === 'op-result' && e.result.status === 'changed')).toBe(false);
  });

  it('stated differently, each role keeps its own change (the second then fails like the real useradd would)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-dup-'));
    writeFileSync(join(dir, 'log'), '');
    const { code, events } = await run(dir, ['one', 'two']);
    expect(code).toBe(2);
    const results = events.flatMap((e) => (e.type === 'op-result' ? [`${e.result.role} ${e.result.status}`] : []));
    expect(results).toEqual(['r0 changed', 'second failed']);
  });
});
