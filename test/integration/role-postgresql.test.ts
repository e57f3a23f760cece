/**
 * postgresql role on a simulated host, real PostgreSQL (Debian 12's 15, the tests' stand-in for the production 16
 * from the PostgreSQL project's repository): vps-trio's two instances side by side on one host (metadata-db on 5433,
 * datalake-db on 5432, postgresql-common clusters), each with its database, owner and password (SCRAM), memory sized
 * from the instance's budget, pg_hba from the inventory. A rerun changes nothing; a changed setting shows exactly in
 * --check (changing nothing) and is then live.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';

const sim = useSimHosts({ name: 'postgresql', hosts: [{ name: 'vps1', groups: ['postgresql'], memoryMb: 1536 }] });
const runs = useRuns();
const dir = mkdtempSync(join(tmpdir(), 'orch-postgresql-'));
writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    postgresql:\n      hosts:\n        vps1:\n');
writeFileSync(join(dir, 'pb.yml'), '- name: databases\n  hosts: postgresql\n  roles: [postgresql]\n');
const PW = { airflow: 'Airflow-test-pw-1', datalake: 'Datalake-test-pw-2' };
const BASE = { postgresql_repository: 'distribution', postgresql_version: '15', postgresql_passwords: PW };

async function plan(vars: Record<string, unknown> = {}) {
  const values = { ...BASE, ...vars };
  return buildPlan({
    inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(dir, 'pb.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'test', values, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}, check = false) => runs.run(await plan(vars), { check });
async function on(cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())('vps1')).runScript(cmd);
  if (r.code !== 0) throw new Error(`vps1: ${cmd}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  return r.stdout;
}
const changed = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.result.kind} ${e.result.name}`] : e.type === 'handler' && e.status === 'changed' ? [`handler ${e.name}`] : []));
const failures = (events: RunEvent[]) => events.filter((e) => e.type === 'host-failed' || (e.type === 'op-result' && e.result.status === 'failed')).map((e) => JSON.stringify(e));

describe('postgresql: two instances on one host', () => {
  it('the first run creates both clusters, their databases and owners', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    console.log(`[postgresql] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    // postgresql-common: exactly the two clusters, online, no automatic main
    expect((await on("pg_lsclusters -h | awk '{print $1, $2, $3, $4}'")).trim().split('\n')).toEqual(['15 datalake 5432 online', '15 metadata 5433 online']);
    expect(await on('systemctl is-active postgresql@15-metadata postgresql@15-datalake; systemctl is-enabled postgresql@15-metadata postgresql@15-datalake')).toBe('active\nactive\nenabled\nenabled\n');
    expect(await on('stat -c %U /pg_metadata/PG_VERSION /pg_datalake/PG_VERSION')).toBe('postgres\npostgres\n');
  });

  it('each owner logs in over TCP with its password (SCRAM) to its own database on its own port; memory sized from the instance budget', async () => {
    const sql = (port: number, user: string, pw: string, q: string) => on(`PGPASSWORD='${pw}' psql -X -At -h 127.0.0.1 -p ${port} -U ${user} -d ${user} -c "${q}"`);
    expect(await sql(5433, 'airflow', PW.airflow, 'select current_user, current_database(), current_setting(\'port\')')).toBe('airflow|airflow|5433\n');
    expect(await sql(5432, 'datalake', PW.datalake, 'select current_user, current_database(), current_setting(\'port\')')).toBe('datalake|datalake|5432\n');
    expect(await sql(5433, 'airflow', PW.airflow, 'show shared_buffers')).toBe('64MB\n');
    expect(await sql(5432, 'datalake', PW.datalake, 'show shared_buffers')).toBe('128MB\n');
    expect(await sql(5432, 'datalake', PW.datalake, 'show effective_cache_size')).toBe('384MB\n');
    expect(await on("runuser -u postgres -- psql -X -At -p 5433 -c \"select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'airflow'\"")).toBe('t\n');
    // a wrong password is refused
    await expect(sql(5433, 'airflow', 'wrong-pw', 'select 1')).rejects.toThrow(/password authentication failed/);
    // the datalake owner is no role of the metadata instance (PostgreSQL does not say so: authentication fails)
    await expect(sql(5433, 'datalake', PW.datalake, 'select 1')).rejects.toThrow(/password authentication failed for user "datalake"/);
  });

  it('a rerun changes nothing', async () => {
    const { code, events } = await run();
    expect(code).toBe(0);
    expect(changed(events)).toEqual([]);
  });

  it('a changed setting: --check names exactly the drop-ins and restarts and changes nothing; the run makes it live; then nothing', async () => {
    const check = await run({ postgresql_max_connections: 120 }, true);
    expect(check.code).toBe(0);
    expect(changed(check.events).sort()).toEqual([
      'file /etc/postgresql/15/datalake/conf.d/90-orch.conf',
      'file /etc/postgresql/15/metadata/conf.d/90-orch.conf',
      'handler restart postgresql@15-datalake.service',
      'handler restart postgresql@15-metadata.service',
    ]);
    expect(await on('runuser -u postgres -- psql -X -At -p 5433 -c "show max_connections"')).toBe('100\n');
    const { code, events } = await run({ postgresql_max_connections: 120 });
    expect(code).toBe(0);
    expect(changed(events).length).toBe(4);
    expect(await on('runuser -u postgres -- psql -X -At -p 5433 -c "show max_connections"; runuser -u postgres -- psql -X -At -p 5432 -c "show max_connections"')).toBe('120\n120\n');
    expect(changed((await run({ postgresql_max_connections: 120 })).events)).toEqual([]);
  });

  it('a changed password is set again (SCRAM compared on the controller), the old one no longer works', async () => {
    const pw = { postgresql_passwords: { ...PW, airflow: 'Airflow-test-pw-NEW' }, postgresql_max_connections: 120 };
    const { code, events } = await run(pw);
    expect(code).toBe(0);
    expect(changed(events)).toEqual(['postgresql metadata: databases and owners']);
    const reason = events.find((e) => e.type === 'op-result' && e.result.status === 'changed') as Extract<RunEvent, { type: 'op-result' }>;
    expect(reason.result.reason).toBe('set the password of airflow (differs)');
    expect(JSON.stringify(events)).not.toContain('Airflow-test-pw-NEW');
    expect(await on(`PGPASSWORD='Airflow-test-pw-NEW' psql -X -At -h 127.0.0.1 -p 5433 -U airflow -d airflow -c 'select 1'`)).toBe('1\n');
    expect(changed((await run(pw)).events)).toEqual([]);
    await expect(on(`PGPASSWORD='${PW.airflow}' psql -X -At -h 127.0.0.1 -p 5433 -U airflow -d airflow -c 'select 1'`)).rejects.toThrow(/password authentication failed/);
  });
});
