/**
 * etcd + Patroni on 3 simulated hosts, real software (Debian 12: etcd-server 3.4, PostgreSQL 15 and Patroni 3.0.2
 * from the distribution: the tests' stand-ins for the seeds' etcd 3.5.16, PostgreSQL 16 and Patroni 3.3.2, whose
 * production paths are unit-tested). Checked as an operator would:
 *   - one leader and two streaming replicas, one of them synchronous; a row written through the leader's port is read
 *     on a replica; the seeds' databases exist; a rerun changes nothing;
 *   - failover: the leader's host killed, a replica is promoted within 30 s (the measured time is printed), the row is
 *     still there; the host started again, a rerun converges it as a replica, the run after that changes nothing;
 *   - max_connections changed on the converged cluster: --check says exactly that (PATCH, a rolled restart); the run
 *     applies it through Patroni's dynamic configuration, restarts the members one by one, the leader last, with no
 *     re-init (same system identifier, same row), and 600 is live on all three.
 * HAProxy (the haproxy role, Debian's package) runs on the three hosts in front of the cluster, as the seeds place
 * it: the row is written through its primary port (5000, Patroni's /primary check), and after the failover that
 * port reaches the new leader.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { waitFor } from '../helpers/role-test.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';
import patroniRole from '../../roles/patroni/index.js';
import haproxyRole from '../../roles/haproxy/index.js';

const HOSTS = ['p1', 'p2', 'p3'];
const sim = useSimHosts({ name: 'patroni', hosts: HOSTS.map((name) => ({ name, groups: ['etcd', 'patroni', 'haproxy'], memoryMb: 1024 })) });
const runs = useRuns();
const dir = mkdtempSync(join(tmpdir(), 'orch-patroni-'));
writeFileSync(join(dir, 'hosts.yml'), `all:\n  children:\n    etcd:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}    patroni:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}    haproxy:\n      hosts:\n${HOSTS.map((h) => `        ${h}:\n`).join('')}`);
writeFileSync(join(dir, 'pb.yml'), '- name: coordination\n  hosts: etcd\n  roles: [etcd]\n- name: load-balancer\n  hosts: haproxy\n  roles: [haproxy]\n- name: data\n  hosts: patroni\n  roles: [patroni]\n');
const NESSIE_PW = 'Nessie-test-pw-1';
const PARAMS = patroniRole.vars.patroni_parameters.default as Record<string, unknown>;
const BASE = {
  etcd_source: 'package',
  patroni_install: 'package',
  patroni_postgresql_repository: 'distribution',
  patroni_postgresql_version: '15',
  patroni_passwords: { nessie: NESSIE_PW },
  // the seed's PostgreSQL frontends (primary 5000, replicas 5001); its HTTP frontend routes to services not deployed here
  haproxy_frontends: (haproxyRole.vars.haproxy_frontends.default as { name: string }[]).filter((f) => f.name.startsWith('postgres_')),
};
const log = (s: string) => console.log(`[patroni] ${s}`);

async function plan(vars: Record<string, unknown> = {}) {
  return buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'test', values: { ...BASE, ...vars }, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}, check = false) => runs.run(await plan(vars), { check });
async function sh(host: string, cmd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return (await runs.connector(await plan())(host)).runScript(cmd);
}
async function on(host: string, cmd: string): Promise<string> {
  const r = await sh(host, cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  return r.stdout;
}
const psql = (host: string, q: string, db = 'postgres') => on(host, `runuser -u postgres -- psql -X -At -h /var/run/postgresql -p 5432 -d ${db} -c "${q}"`);
const code = async (host: string, path: string) => (await sh(host, `curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8008${path}`)).stdout.trim();
async function leaderOf(hosts = HOSTS): Promise<string | undefined> {
  for (const h of hosts) if ((await code(h, '/primary').catch(() => '')) === '200') return h;
  return undefined;
}
const address = (h: string) => sim.host(h).address;
/** psql through the HAProxy on `via`'s host: its primary frontend (5000) or replicas frontend (5001) */
const throughHaproxy = (via: string, sql: string, port = 5000) =>
  on(via, `PGPASSWORD='${NESSIE_PW}' psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p ${port} -U nessie -d nessie -c "${sql}"`);
const changed = (events: RunEvent[]) =>
  events.flatMap((e) =>
    e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : e.type === 'handler' && e.status === 'changed' ? [`${e.host} handler ${e.name}`] : [],
  );
const failures = (events: RunEvent[]) =>
  events.filter((e) => e.type === 'host-failed' || e.type === 'run-aborted' || (e.type === 'op-result' && e.result.status === 'failed')).map((e) => JSON.stringify(e).slice(0, 1500));

let leader = '';

describe('etcd + Patroni: a 3-member cluster', () => {
  it('the first run makes one leader and two streaming replicas, one synchronous; the databases exist', async () => {
    const t0 = Date.now();
    const { code: rc, events } = await run();
    log(`first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(failures(events)).toEqual([]);
    expect(rc).toBe(0);
    leader = (await leaderOf())!;
    expect(leader).toBeDefined();
    // Patroni names its synchronous standby on a later loop (loop_wait) than the one the replicas start streaming in
    let list: any[] = [];
    const ts = Date.now();
    while (Date.now() - ts < 30_000) {
      list = JSON.parse(await on(leader, 'patronictl -c /etc/patroni/config.yml list -f json'));
      if (list.some((m: any) => m.Role === 'Sync Standby')) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    log(`patronictl list ${((Date.now() - ts) / 1000).toFixed(1)} s after the run: ${JSON.stringify(list)}`);
    expect(list.map((m: any) => m.Role).sort()).toEqual(['Leader', 'Replica', 'Sync Standby']);
    expect(list.find((m: any) => m.Role === 'Leader').Member).toBe(leader);
    // on the leader: both replicas stream, one synchronously
    // both replicas stream (the async one may still be connecting when the run ends: up to 30 s)
    const streaming = await waitFor(
      async () => (await psql(leader, 'select application_name, state, sync_state from pg_stat_replication order by sync_state desc')).trim().split('\n'),
      (rows) => rows.length === 2 && rows.every((r) => r.includes('|streaming|')),
      30_000,
      1000,
    );
    log(`both replicas streaming ${streaming.seconds.toFixed(1)} s after the list above`);
    const repl = streaming.value;
    expect(repl.map((l) => l.split('|').slice(1).join('|'))).toEqual(['streaming|sync', 'streaming|async']);
    expect(repl.map((l) => l.split('|')[0]).sort()).toEqual(HOSTS.filter((h) => h !== leader).sort());
    for (const h of HOSTS.filter((x) => x !== leader)) expect(await code(h, '/replica')).toBe('200');
    expect((await psql(leader, "select string_agg(datname || ':' || pg_get_userbyid(datdba), ',' order by datname) from pg_database where datname not in ('postgres', 'template0', 'template1')")).trim()).toBe(
      'airflow:airflow,datalyptica:datalyptica,grafana:grafana,keycloak:keycloak,mlflow:mlflow,nessie:nessie,superset:superset',
    );
    expect((await psql(leader, 'show max_connections')).trim()).toBe('500');
    expect((await psql(leader, 'show shared_buffers')).trim()).toBe('256MB');
    expect((await psql(leader, 'show wal_level')).trim()).toBe('replica');
    // the distribution's own cluster never came into being
    for (const h of HOSTS) expect(await on(h, 'ls /etc/postgresql/15 2>/dev/null | wc -l')).toBe('0\n');
  });

  it("a row written through HAProxy's primary port (5000, TCP, the owner's SCRAM password) lands on the leader and is read on a replica", async () => {
    const replica = HOSTS.find((h) => h !== leader)!;
    // HAProxy on the replica's host, so that the connection really crosses the proxy to another host
    expect((await throughHaproxy(replica, 'select pg_is_in_recovery()')).trim()).toBe('f');
    expect((await throughHaproxy(replica, 'select inet_server_addr()')).trim()).toBe(address(leader));
    await throughHaproxy(replica, `create table probe (v text); insert into probe values ('written on ${leader}')`);
    let seen = '';
    for (let i = 0; i < 20 && !seen; i++) {
      seen = (await psql(replica, 'select v from probe', 'nessie').catch(() => '')).trim();
      if (!seen) await new Promise((r) => setTimeout(r, 500));
    }
    expect(seen).toBe(`written on ${leader}`);
  });

  it('a rerun changes nothing', async () => {
    const { code: rc, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(rc).toBe(0);
    expect(changed(events)).toEqual([]);
  });
});

describe('failover', () => {
  it("the leader's host killed: a replica is promoted within 30 s, the row is still there", async () => {
    const old = leader;
    const others = HOSTS.filter((h) => h !== old);
    await sim.kill(old);
    const t0 = Date.now();
    let promoted: string | undefined;
    while (!promoted && Date.now() - t0 < 60_000) {
      promoted = await leaderOf(others);
      if (!promoted) await new Promise((r) => setTimeout(r, 500));
    }
    const secs = (Date.now() - t0) / 1000;
    log(`failover: ${old} killed, ${promoted} promoted after ${secs.toFixed(1)} s (seeds: < 30 s)`);
    expect(promoted).toBeDefined();
    expect(secs).toBeLessThan(30);
    expect((await psql(promoted!, 'select v from probe', 'nessie')).trim()).toBe(`written on ${old}`);
    // HAProxy's primary port now reaches the new leader (its check runs every 2 s, rise 2)
    const via = others.find((h) => h !== promoted)!;
    let through = '';
    const t1 = Date.now();
    while (Date.now() - t1 < 30_000) {
      through = (await throughHaproxy(via, 'select inet_server_addr()').catch(() => '')).trim();
      if (through === address(promoted!)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    log(`HAProxy's primary port on ${via} reaches ${promoted} ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
    expect(through).toBe(address(promoted!));
    await throughHaproxy(via, `insert into probe values ('after the failover')`);
    // and the replicas port (5001, Patroni's /replica) reads it on the remaining replica, once streamed
    let count = '';
    for (let i = 0; i < 40 && count !== '2'; i++) {
      count = (await throughHaproxy(via, 'select count(*) from probe', 5001).catch(() => '')).trim();
      if (count !== '2') await new Promise((r) => setTimeout(r, 500));
    }
    expect(count).toBe('2');
    leader = promoted!;
    (globalThis as any).__oldLeader = old;
  });

  it('the host started again: a rerun converges it as a replica, the run after that changes nothing', async () => {
    const old = (globalThis as any).__oldLeader as string;
    await sim.start(old);
    const t0 = Date.now();
    const { code: rc, events } = await run();
    log(`rerun after the old leader came back: ${((Date.now() - t0) / 1000).toFixed(1)} s, changes: ${JSON.stringify(changed(events))}`);
    expect(failures(events)).toEqual([]);
    expect(rc).toBe(0);
    let rcode = '';
    for (let i = 0; i < 60 && rcode !== '200'; i++) {
      rcode = await code(old, '/replica');
      if (rcode !== '200') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(rcode).toBe('200');
    expect(await leaderOf()).toBe(leader);
    expect((await psql(old, "select string_agg(v, ',' order by v) from probe", 'nessie')).trim()).toBe(`after the failover,written on ${old}`);
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
  });
});

describe('a changed parameter on the converged cluster', () => {
  it('max_connections 600: --check says PATCH and a rolled restart; applied through Patroni, leader last, no re-init; live on all three', async () => {
    const vars = { patroni_parameters: { ...PARAMS, max_connections: 600 } };
    const sysid = async () => Promise.all(HOSTS.map(async (h) => (await psql(h, 'select system_identifier from pg_control_system()')).trim()));
    const started = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, Date.parse((await psql(h, 'select pg_postmaster_start_time()')).trim())] as const)));
    const id0 = await sysid();
    expect(new Set(id0).size).toBe(1);
    const t0 = await started();

    const check = await run(vars, true);
    expect(check.code).toBe(0);
    const would = changed(check.events).sort();
    expect(would).toEqual(
      HOSTS.flatMap((h) => [
        `${h} file /etc/patroni/config.yml`,
        `${h} handler restart orch-patroni-reload`,
        `${h} handler restart orch-patroni-restart`,
        `${h} patroni PostgreSQL runs with the parameters that need a restart`,
        `${h} patroni dynamic configuration (DCS)`,
      ]).sort(),
    );
    const patch = check.events.find((e) => e.type === 'op-result' && e.result.name === 'dynamic configuration (DCS)') as Extract<RunEvent, { type: 'op-result' }>;
    expect(patch.result.reason).toBe('would change: PATCH /config: max_connections: 500 -> 600');
    const rolled = check.events.find((e) => e.type === 'handler' && e.name === 'restart orch-patroni-restart') as Extract<RunEvent, { type: 'handler' }>;
    expect(rolled.reason).toMatch(/rolled host by host behind: member running again/);
    expect((await psql(leader, 'show max_connections')).trim()).toBe('500');

    const ta = Date.now();
    const { code: rc, events } = await run(vars);
    log(`rolled restart for max_connections 500 -> 600: ${((Date.now() - ta) / 1000).toFixed(1)} s`);
    expect(failures(events)).toEqual([]);
    expect(rc).toBe(0);
    const t1 = await started();
    const order = [...HOSTS].sort((a, b) => t1[a] - t1[b]);
    log(`restart order: ${order.join(', ')} (leader ${leader})`);
    for (const h of HOSTS) expect(t1[h]).toBeGreaterThan(t0[h]);
    expect(order[2]).toBe(leader);
    for (const h of HOSTS) expect((await psql(h, 'show max_connections')).trim()).toBe('600');
    expect(await sysid()).toEqual(id0);
    expect(await leaderOf()).toBe(leader);
    expect((await psql(leader, 'select count(*) from probe', 'nessie')).trim()).toBe('2');
    const cfg = JSON.parse(await on(leader, 'curl -s http://127.0.0.1:8008/config'));
    expect(String(cfg.postgresql.parameters.max_connections)).toBe('600');
    const again = await run(vars);
    expect(changed(again.events)).toEqual([]);
  });
});
