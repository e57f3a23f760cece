import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/runner/run.js';
import { localConnection } from '../../src/transport/local.js';
import type { Connection } from '../../src/transport/types.js';
import { UnreachableError } from '../../src/transport/types.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';
import { defineRole } from '../../src/role/define.js';
import type { RunEvent } from '../../src/report/events.js';
import { fileOp, testPlan } from './runner-harness.js';

function failingOp(): Operation<null> {
  return { kind: 'command', name: 'fails', fact: null, plan: () => ({ status: 'change', reason: 'always', script: 'echo boom >&2; exit 7' }) };
}

function counting(conn: Connection) {
  const calls: string[] = [];
  return {
    calls,
    conn: { ...conn, host: conn.host, runScript: (s: string, o?: { timeoutMs?: number }) => (calls.push(s), conn.runScript(s, o)), putFile: conn.putFile, close: conn.close } as Connection,
  };
}

const planFor = (hosts: string[], phases: Array<{ name: string; ops: (host: string) => Operation<any>[]; maxFail?: number }>) => testPlan(hosts, phases);

describe('runner', () => {
  it('converges in one facts and one apply round trip per host and phase, then changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    const plan = planFor(['a', 'b'], [{ name: 'files', ops: (h) => [fileOp(join(dir, `${h}-1`), 'one\n'), fileOp(join(dir, `${h}-2`), `two ${h}\n`)] }]);
    const c = counting(localConnection());
    const events: RunEvent[] = [];
    const code = await runPlan(plan, { check: false, diff: false, emit: (e) => events.push(e), connect: async () => c.conn });
    expect(code).toBe(0);
    expect(readFileSync(join(dir, 'b-2'), 'utf8')).toBe('two b\n');
    // facts (the host facts riding along) + apply, per host
    expect(c.calls.length).toBe(2 * 2);
    expect(c.calls.filter((s) => s.includes('_NPROCESSORS_ONLN'))).toHaveLength(2);
    const recap = events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap.hosts.a.changed).toBe(2);

    c.calls.length = 0;
    const events2: RunEvent[] = [];
    expect(await runPlan(plan, { check: false, diff: false, emit: (e) => events2.push(e), connect: async () => c.conn })).toBe(0);
    const recap2 = events2.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap2.hosts.a).toMatchObject({ ok: 2, changed: 0 });
    expect(c.calls.length).toBe(2); // one facts round trip per host, the host facts in it: nothing to apply
  });

  it('check mode reports exactly what would change and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    writeFileSync(join(dir, 'same'), 'x');
    const plan = planFor(['a'], [{ name: 'p', ops: () => [fileOp(join(dir, 'same'), 'x'), fileOp(join(dir, 'new'), 'y')] }]);
    const events: RunEvent[] = [];
    await runPlan(plan, { check: true, diff: false, emit: (e) => events.push(e), connect: async () => localConnection() });
    const changed = events.filter((e) => e.type === 'op-result' && e.result.status === 'changed');
    expect(changed).toHaveLength(1);
    expect((changed[0] as any).result.name).toBe(join(dir, 'new'));
    expect((changed[0] as any).result.reason).toMatch(/^would change: file is missing/);
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });

  it('--diff fetches the current content of the files about to change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    writeFileSync(join(dir, 'conf'), 'old line\n');
    const op = fileOp(join(dir, 'conf'), 'new line\n');
    const withDiff: Operation<string | null> = { ...op, plan: (f) => ({ ...op.plan(f), diff: { path: join(dir, 'conf'), after: 'new line\n' } }) as Plan };
    const plan = planFor(['a'], [{ name: 'p', ops: () => [withDiff] }]);
    const events: RunEvent[] = [];
    await runPlan(plan, { check: true, diff: true, emit: (e) => events.push(e), connect: async () => localConnection() });
    const r = events.find((e) => e.type === 'op-result') as Extract<RunEvent, { type: 'op-result' }>;
    expect(r.result.diff).toEqual({ path: join(dir, 'conf'), before: 'old line\n', after: 'new line\n' });
  });

  it('a failed operation stops its host, reports the error, and the others go on; later phases skip the failed host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    const plan = planFor(['good', 'bad'], [
      { name: 'one', ops: (h) => (h === 'bad' ? [failingOp(), fileOp(join(dir, 'after-fail'), 'z')] : [fileOp(join(dir, 'good'), 'g')]) },
      { name: 'two', ops: (h) => [fileOp(join(dir, `${h}-phase2`), 'p2')] },
    ]);
    const events: RunEvent[] = [];
    const code = await runPlan(plan, { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection() });
    expect(code).toBe(2);
    const failed = events.find((e) => e.type === 'op-result' && e.result.status === 'failed') as any;
    expect(failed.result.reason).toContain('exit 7: boom');
    expect(existsSync(join(dir, 'after-fail'))).toBe(false);
    expect(existsSync(join(dir, 'good-phase2'))).toBe(true);
    expect(existsSync(join(dir, 'bad-phase2'))).toBe(false);
    const recap = events.find((e) => e.type === 'recap') as any;
    expect(recap.resumeFrom).toBe('one');
  });

  it('an unreachable host gives exit 3; max_fail_percentage aborts the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    const plan = planFor(['up', 'down'], [
      { name: 'one', ops: (h) => [fileOp(join(dir, h), 'x')], maxFail: 0 },
      { name: 'two', ops: (h) => [fileOp(join(dir, `${h}-2`), 'x')] },
    ]);
    const events: RunEvent[] = [];
    const code = await runPlan(plan, {
      check: false,
      diff: false,
      emit: (e) => events.push(e),
      connect: async (h) => {
        if (h === 'down') throw new UnreachableError(h, 'down (127.0.0.1:1): connection refused');
        return localConnection();
      },
    });
    expect(code).toBe(3);
    expect(events.some((e) => e.type === 'run-aborted')).toBe(true);
    expect(existsSync(join(dir, 'up-2'))).toBe(false);
  });

  it('a role sees what a role of an earlier phase exports (java_home), also when only the later phase runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    const java = defineRole({ name: 'java', description: 't', vars: {}, exports: ({ host }) => ({ java_home: `/jvm/${host.name}` }), operations: () => [] });
    const kafka = defineRole({
      name: 'kafka',
      description: 't',
      dependsOn: ['java'],
      vars: {},
      operations: ({ host, exported }) => [fileOp(join(dir, `${host.name}.env`), `JAVA_HOME=${exported('java').java_home}\n`)],
    });
    const plan = planFor(['a'], []);
    const phase = (name: string, index: number, role: typeof java) => ({
      phase: { name, index, hosts: 'all', roles: [], tags: [] },
      hosts: [{ name: 'a', roles: [{ name: role.name, def: role, vars: {} }] }],
    });
    plan.phases = [phase('kafka', 2, kafka)]; // as with --from-phase 2: java's phase is not run
    plan.hostRoles = new Map([['a', [{ name: 'java', def: java, vars: {} }, { name: 'kafka', def: kafka, vars: {} }]]]);
    expect(await runPlan(plan, { check: false, diff: false, emit: () => {}, connect: async () => localConnection() })).toBe(0);
    expect(readFileSync(join(dir, 'a.env'), 'utf8')).toBe('JAVA_HOME=/jvm/a\n');
  });

  it('handlers run once per phase, after the changes that notified them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-runner-'));
    const log = join(dir, 'handler.log');
    const plan = planFor(['a'], [{ name: 'p', ops: () => [fileOp(join(dir, 'c1'), '1', ['svc']), fileOp(join(dir, 'c2'), '2', ['svc'])] }]);
    const events: RunEvent[] = [];
    await runPlan(plan, { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection(), handlerScript: (n) => `echo restart ${n} >> ${q(log)}` });
    expect(readFileSync(log, 'utf8')).toBe('restart svc\n');
    expect(events.filter((e) => e.type === 'handler')).toHaveLength(1);
  });
});
