/**
 * The runner's cluster mechanisms on local "hosts" (every host runs its scripts on this machine, in its own
 * directory): rolled restarts behind health checks, cluster values kept in a state directory, and host facts
 * gathered in the first phase's facts script.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/runner/run.js';
import { prepareHostPhase, healthScript, rolledBy, defaultGuess } from '../../src/runner/host-phase.js';
import { localConnection } from '../../src/transport/local.js';
import type { Connection } from '../../src/transport/types.js';
import { q } from '../../src/ops/quote.js';
import { defineRole, type RoleDefinition } from '../../src/role/define.js';
import type { RunPlan } from '../../src/playbook/plan.js';
import type { RunEvent } from '../../src/report/events.js';
import { fileOp, testPlan } from './runner-harness.js';
import { Profile } from '../../src/runner/profile.js';

const planOf = (hosts: string[], role: RoleDefinition, groups: string[] = ['all', 'members'], hostVars: Record<string, Record<string, unknown>> = {}): RunPlan =>
  testPlan(hosts, [{ name: 'cluster', role }], { groups, hostVars });

const recapOf = (events: RunEvent[]) => events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
const failedHosts = (events: RunEvent[]) => events.filter((e): e is Extract<RunEvent, { type: 'host-failed' }> => e.type === 'host-failed');

describe('rolling restarts', () => {
  /** a "service" per host whose restart and health check append to one log; health is bad where `dir/<host>.sick` exists */
  function rolled(dir: string, conf: string, opts: { leader?: string } = {}) {
    const log = join(dir, 'log');
    const role = defineRole({
      name: 'svc',
      description: 'test service',
      vars: {},
      operations: ({ host }) => [fileOp(join(dir, `${host.name}.conf`), conf, [`svc-${host.name}`])],
      rollout: ({ host }) => ({
        services: [`svc-${host.name}`],
        health: {
          command: `echo health ${host.name} >> ${q(log)}; [ ! -e ${q(join(dir, `${host.name}.sick`))} ]`,
          description: `svc on ${host.name} answers`,
          timeoutSec: 1,
          intervalSec: 0.3,
        },
        leader: opts.leader ? `[ ${q(host.name)} = ${q(opts.leader)} ]` : undefined,
      }),
    });
    const handlerScript = (n: string) => `echo restart ${n.replace('svc-', '')} >> ${q(log)}`;
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    return { role, handlerScript, lines, log };
  }
  const run = async (plan: RunPlan, handlerScript: (n: string) => string, check = false) => {
    const events: RunEvent[] = [];
    const code = await runPlan(plan, { check, diff: false, emit: (e) => events.push(e), connect: async () => localConnection(), handlerScript });
    return { code, events };
  };

  it('a first start is not rolled; a config change restarts one host at a time, each behind its health check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-roll-'));
    const hosts = ['a', 'b', 'c'];
    // first deploy: the files are new, nothing notified is restarted before it runs (no handler here: files only)
    for (const h of hosts) writeFileSync(join(dir, `${h}.conf`), 'v1');
    const t = rolled(dir, 'v2');
    const first = await run(planOf(hosts, t.role), t.handlerScript);
    expect(first.code).toBe(0);
    // strictly sequential: each restart is followed by that host's health check before the next restart
    expect(t.lines()).toEqual(['restart a', 'health a', 'restart b', 'health b', 'restart c', 'health c']);
    // rerun: nothing changes, nothing restarts
    rmSync(t.log);
    const again = await run(planOf(hosts, t.role), t.handlerScript);
    expect(again.code).toBe(0);
    expect(t.lines()).toEqual([]);
  });

  it('check mode says the restart would be rolled, and restarts nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-roll-'));
    for (const h of ['a', 'b']) writeFileSync(join(dir, `${h}.conf`), 'v1');
    const t = rolled(dir, 'v2');
    const { code, events } = await run(planOf(['a', 'b'], t.role), t.handlerScript, true);
    expect(code).toBe(0);
    const handlers = events.filter((e) => e.type === 'handler') as Array<Extract<RunEvent, { type: 'handler' }>>;
    expect(handlers.map((h) => h.reason).sort()).toEqual([
      'would restart (notified), rolled host by host behind: svc on a answers',
      'would restart (notified), rolled host by host behind: svc on b answers',
    ]);
    expect(t.lines()).toEqual([]);
    expect(readFileSync(join(dir, 'a.conf'), 'utf8')).toBe('v1');
  });

  it('the leader restarts last', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-roll-'));
    const hosts = ['a', 'b', 'c'];
    for (const h of hosts) writeFileSync(join(dir, `${h}.conf`), 'v1');
    const t = rolled(dir, 'v2', { leader: 'a' });
    expect((await run(planOf(hosts, t.role), t.handlerScript)).code).toBe(0);
    expect(t.lines().filter((l) => l.startsWith('restart'))).toEqual(['restart b', 'restart c', 'restart a']);
  });

  it('a host whose health check fails stops the rollout there: later hosts are untouched, the recap names the phase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-roll-'));
    const hosts = ['a', 'b', 'c'];
    for (const h of hosts) writeFileSync(join(dir, `${h}.conf`), 'v1');
    writeFileSync(join(dir, 'b.sick'), '');
    const t = rolled(dir, 'v2');
    const { code, events } = await run(planOf(hosts, t.role), t.handlerScript);
    expect(code).toBe(2);
    expect(t.lines().filter((l) => l.startsWith('restart'))).toEqual(['restart a', 'restart b']);
    expect(readFileSync(join(dir, 'c.conf'), 'utf8')).toBe('v1'); // not even its config was written
    const failed = failedHosts(events);
    expect(failed.map((f) => f.host).sort()).toEqual(['b', 'c']);
    expect(failed.find((f) => f.host === 'b')!.error).toMatch(/health check failed: svc on b answers: not healthy within 1 s/);
    expect(failed.find((f) => f.host === 'c')!.error).toMatch(/not applied: the rolling restart of svc stopped at b/);
    expect(recapOf(events).resumeFrom).toBe('cluster');

    // fixed, a rerun converges the rest: c restarts (its config changes now), a and b are left alone
    rmSync(join(dir, 'b.sick'));
    rmSync(t.log);
    expect((await run(planOf(hosts, t.role), t.handlerScript)).code).toBe(0);
    expect(t.lines().filter((l) => l.startsWith('restart'))).toEqual(['restart c']);
  });

  it('matches services by unit name and instance patterns', () => {
    expect(rolledBy('kafka', 'kafka.service')).toBe(true);
    expect(rolledBy('kafka.service', 'kafka')).toBe(true);
    expect(rolledBy('kafka', 'kafka-connect')).toBe(false);
    expect(rolledBy('spark-worker@*', 'spark-worker@2')).toBe(true);
    expect(rolledBy('spark-worker@*', 'spark-master')).toBe(false);
  });

  it('the health script retries until the check passes, and gives up with the last output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-roll-'));
    const counter = join(dir, 'n');
    const conn = localConnection();
    // passes on the third try
    const ok = await conn.runScript(healthScript(`n=$(cat ${q(counter)} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${q(counter)}; [ $n -ge 3 ]`, 5, 0.2));
    expect(ok.code).toBe(0);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');
    const bad = await conn.runScript(healthScript(`echo 'not yet: leader none'; false`, 1, 0.3));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('not yet: leader none');
  });
});

describe('cluster values on a host', () => {
  const role = (dir: string, gen: () => string, opts: { secret?: boolean } = {}) =>
    defineRole({
      name: 'kv',
      description: 'test',
      vars: {},
      clusterValues: () => [
        { name: 'test_cluster_id', doc: 'test id', group: 'members', read: `sed -n 's/^id=//p' ${q(join(dir, 'app.conf'))}`, generate: gen, override: 'test_cluster_id', secret: opts.secret },
      ],
      operations: ({ cluster }) => [fileOp(join(dir, 'app.conf'), `id=${cluster('test_cluster_id')}\n`)],
    });
  const run = async (plan: RunPlan, stateDir: string, check = false) => {
    const events: RunEvent[] = [];
    const code = await runPlan(plan, { check, diff: false, emit: (e) => events.push(e), connect: async () => localConnection(), stateDir });
    return { code, events, results: events.filter((e): e is Extract<RunEvent, { type: 'op-result' }> => e.type === 'op-result') };
  };

  it('generated once (a value starting with "-" included), kept in the state dir, unchanged by a rerun; check says would generate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-cv-'));
    const state = join(dir, 'state');
    let made = 0;
    const r = role(dir, () => `-${++made}abc`);
    const check = await run(planOf(['a'], r), state, true);
    expect(check.code).toBe(0);
    expect(check.results.find((x) => x.result.kind === 'cluster-value')!.result.reason).toBe('would change: generate test_cluster_id (no host of group members has one)');
    expect(existsSync(state)).toBe(false);

    const first = await run(planOf(['a'], r), state);
    expect(first.code).toBe(0);
    const value = readFileSync(join(state, 'values', 'test_cluster_id'), 'utf8');
    expect(value).toMatch(/^-\d+abc\n$/);
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe(`id=${value}`);

    const again = await run(planOf(['a'], r), state);
    expect(again.code).toBe(0);
    expect(again.results.every((x) => x.result.status === 'ok')).toBe(true);
    expect(readFileSync(join(state, 'values', 'test_cluster_id'), 'utf8')).toBe(value);

    // the orch copy lost: restored from the role's own file, not regenerated
    rmSync(join(state, 'values', 'test_cluster_id'));
    const restored = await run(planOf(['a'], r), state);
    expect(restored.code).toBe(0);
    expect(restored.results.find((x) => x.result.kind === 'cluster-value')!.result.reason).toBe('restore test_cluster_id from a (its configuration)');
    expect(readFileSync(join(state, 'values', 'test_cluster_id'), 'utf8')).toBe(value);
  });

  it('a host whose configuration and orch copy disagree stops the run before anything is written; the inventory value must match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-cv-'));
    const state = join(dir, 'state');
    const r = role(dir, () => 'new', { secret: true });
    await run(planOf(['a'], r), state);
    writeFileSync(join(dir, 'app.conf'), 'id=s3cr3t-value\n');
    const { code, events } = await run(planOf(['a'], r), state);
    expect(code).toBe(2);
    const aborted = events.find((e) => e.type === 'run-aborted') as Extract<RunEvent, { type: 'run-aborted' }>;
    expect(aborted.reason).toMatch(/test_cluster_id: the hosts of group members disagree: a \(its configuration\): \*\*\* \(sha256 [0-9a-f]{8}\); a \(the orch copy\): \*\*\* \(sha256 [0-9a-f]{8}\)/);
    expect(aborted.reason).not.toContain('s3cr3t-value');
    expect(readFileSync(join(dir, 'app.conf'), 'utf8')).toBe('id=s3cr3t-value\n');

    const inv = await run(planOf(['a'], r, ['all', 'members'], { a: { test_cluster_id: 's3cr3t-value' } }), state);
    expect(inv.code).toBe(2);
    expect((inv.events.find((e) => e.type === 'run-aborted') as any).reason).toMatch(/the inventory sets test_cluster_id to \*\*\* \(sha256 [0-9a-f]{8}\) but a \(the orch copy\): \*\*\*/);
  });

  it('check mode over two phases sharing a value (the redis role and a role using its password): generated once, the copy written once, as the run does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-cv-'));
    const state = join(dir, 'state');
    let made = 0;
    const shared = (phase: string) =>
      defineRole({
        name: `user${phase}`,
        description: 'test',
        vars: {},
        clusterValues: () => [{ name: 'shared_pw', doc: 'shared', group: 'members', generate: () => `pw${++made}`, secret: true }],
        operations: ({ host, cluster }) => [fileOp(join(dir, `${host.name}.${phase}.conf`), `pw=${cluster('shared_pw')}\n`)],
      });
    const plan = () => testPlan(['a', 'b'], [{ name: 'one', role: shared('1') }, { name: 'two', role: shared('2') }], { groups: ['all', 'members'] });
    const changedOf = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.phase} ${e.host} ${e.result.kind} ${e.result.name}`] : [])).sort();
    const check = await run(plan(), state, true);
    expect(check.code).toBe(0);
    expect(made).toBe(1);
    const predicted = changedOf(check.events);
    expect(predicted.filter((c) => c.includes('cluster-value'))).toEqual(['one a cluster-value shared_pw', 'one b cluster-value shared_pw']);
    const first = await run(plan(), state);
    expect(first.code).toBe(0);
    expect(changedOf(first.events)).toEqual(predicted);
    expect(made).toBe(2);
    for (const f of ['a.1.conf', 'b.1.conf', 'a.2.conf', 'b.2.conf']) expect(readFileSync(join(dir, f), 'utf8')).toBe('pw=pw2\n');
  });
});

describe('host facts in the first facts script', () => {
  it('renders with a guess, and gathers in a second round trip only the facts the real host needs that the guess did not', async () => {
    const role = defineRole({
      name: 'pk',
      description: 'test',
      vars: {},
      operations: ({ host }) => [{ kind: 'probe', name: host.facts.osFamily, fact: { key: `probe:${host.facts.osFamily}`, command: `echo ${host.facts.osFamily}`, parse: (o) => o.trim() }, plan: (f) => ({ status: 'ok', reason: String(f) }) }],
    });
    const calls: string[] = [];
    const base = localConnection();
    const conn: Connection = { ...base, host: base.host, runScript: (s, o) => (calls.push(s), base.runScript(s, o)), putFile: base.putFile, close: base.close };
    const events: RunEvent[] = [];
    const input = {
      phase: 'p',
      host: { name: 'a', roles: [{ name: 'pk', def: role, vars: {} }] },
      conn,
      peers: { self: { name: 'a', address: 'a', groups: ['all'], vars: {} }, all: [] },
      check: false,
      diff: false,
      emit: (e: RunEvent) => events.push(e),
      profile: new Profile(),
    };
    // a right guess (this machine is Debian-like): one round trip
    const right = await prepareHostPhase({ ...input, guess: defaultGuess('a') });
    expect(right.facts.osFamily).toBe('debian');
    expect(calls).toHaveLength(1);
    // a wrong guess: the probe the real facts need is gathered in a second round trip, the plan uses it
    calls.length = 0;
    events.length = 0;
    const wrong = await prepareHostPhase({ ...input, guess: { ...defaultGuess('a'), osFamily: 'redhat' } });
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain('echo debian');
    expect(wrong.items.map((i) => i.op.name)).toEqual(['debian']);
    expect((events.find((e) => e.type === 'op-result') as any).result.reason).toBe('debian');
    // known facts: no host facts in the script
    calls.length = 0;
    await prepareHostPhase({ ...input, facts: right.facts });
    expect(calls).toHaveLength(1);
    expect(calls[0]).not.toContain('_NPROCESSORS_ONLN');
  });
});

describe('health checks after changes', () => {
  it('run after the host changed something, and are skipped (not re-checked) on a converged rerun', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-health-'));
    const marker = join(dir, 'checked');
    const { ops } = await import('../../src/ops/index.js');
    const role = defineRole({
      name: 'hc',
      description: 'test',
      vars: {},
      operations: () => [fileOp(join(dir, 'conf'), 'x'), ops.healthCheck({ name: 'service answers', command: `echo once >> ${q(marker)}; test -f ${q(join(dir, 'conf'))}`, timeoutS: 2 })],
    });
    const events: RunEvent[] = [];
    const run = async () => {
      events.length = 0;
      return runPlan(planOf(['a'], role), { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection() });
    };
    expect(await run()).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('once\n');
    expect(await run()).toBe(0);
    const health = events.find((e) => e.type === 'op-result' && e.result.kind === 'health') as Extract<RunEvent, { type: 'op-result' }>;
    expect(health.result).toMatchObject({ status: 'skipped', reason: 'nothing changed on this host: not re-checked' });
    expect(readFileSync(marker, 'utf8')).toBe('once\n');
    // unhealthy after a change: the host fails with the check named
    const bad = defineRole({ ...role, operations: () => [fileOp(join(dir, 'conf2'), 'y'), ops.healthCheck({ name: 'never healthy', command: 'echo still down; false', timeoutS: 1, intervalS: 0.3 })] });
    events.length = 0;
    expect(await runPlan(planOf(['a'], bad), { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection() })).toBe(2);
    const failed = events.find((e) => e.type === 'op-result' && e.result.status === 'failed') as Extract<RunEvent, { type: 'op-result' }>;
    expect(failed.result.output).toContain('orch: not healthy within 1 s: never healthy');
    expect(failed.result.output).toContain('still down');
  });
});
