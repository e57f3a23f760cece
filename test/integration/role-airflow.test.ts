/**
 * The airflow role on two simulated hosts with the CeleryExecutor, as datalyptica-minimal-5vm.md runs it (scheduler,
 * triggerer and webserver on VM4, Celery workers on VM5): a1 runs the scheduler, triggerer and webserver; a2 two
 * Celery workers (instances), and, for the test, the metadata database (Debian's PostgreSQL 15, the postgresql
 * role) and the broker: Debian's Redis 7.0 (the redis role, master on a2, replica on a1, its password the redis
 * role's cluster value) behind two Sentinels (a1, a2), through which Celery finds the master (sentinel://).
 * Real software: Airflow 2.10.4 and its pinned dependencies (157 pins) from PyPI, built by the controller into a
 * wheelhouse (cached) and pushed: the hosts reach no index. Scaled for small hosts: 2 gunicorn workers, worker
 * concurrency 1, the dags folder listed every 10 s.
 *   - `--check` on fresh hosts says exactly what the first run changes;
 *   - /health reports metadatabase and scheduler healthy;
 *   - a DAG dropped into the dags folder, triggered through the REST API, runs to success on a2 (the task
 *     instance's hostname);
 *   - the fernet key is the same on both hosts, and the secrets are only in airflow.env (0640);
 *   - a rerun changes nothing and installs nothing (the venv op ok), the fernet key unchanged; `--check` after it: 0;
 *   - a changed setting restarts the Airflow services of both hosts; healthy again, the DAG runs again on a2;
 *   - the Redis master stopped: the Sentinels promote a1's replica, and the DAG runs again on a2 through it, with no
 *     change on the Airflow hosts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lockFileOf } from '../../roles/airflow/index.js';
import { workerPing, type AirflowVars } from '../../roles/airflow/render.js';
import { lockDigest, parseLock } from '../../src/ops/python-lock.js';
import type { RunEvent } from '../../src/report/events.js';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const PG_PASSWORD = 'Airflow-db-pw-7';
const ADMIN_PASSWORD = 'Airflow-admin-pw-3';
const DAG_ID = 'orch_hostname_check';
const PINS = parseLock(readFileSync(lockFileOf('2.10.4', '3.11'), 'utf8'));

const t = useRoleTest({
  name: 'airflow',
  hosts: [
    { name: 'a1', groups: ['airflow', 'airflow_scheduler', 'airflow_webserver', 'redis', 'redis_sentinel'], memoryMb: 2048 },
    { name: 'a2', groups: ['airflow', 'airflow_worker', 'postgresql', 'redis', 'redis_sentinel'], memoryMb: 2048 },
  ],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'databases', hosts: 'postgresql', roles: ['postgresql'] },
    { name: 'cache', hosts: 'redis', roles: ['redis'] },
    { name: 'cache-sentinel', hosts: 'redis_sentinel', roles: ['redis-sentinel'] },
    { name: 'orchestration', hosts: 'airflow', roles: ['airflow'] },
  ],
  vars: () => ({
    postgresql_repository: 'distribution',
    postgresql_version: '15',
    postgresql_instances: [{ name: 'main', port: 5432, memory_mb: 192, databases: [{ name: 'airflow', owner: 'airflow' }] }],
    postgresql_passwords: { airflow: PG_PASSWORD },
    redis_master_host: 'a2',
    redis_maxmemory_mb: 64,
    // two Sentinels: one of them may declare the master down (both are needed to authorise the failover)
    redis_sentinel_quorum: 1,
    airflow_db_host: t.sim.host('a2').address,
    airflow_db_password: PG_PASSWORD,
    airflow_admin_password: ADMIN_PASSWORD,
    airflow_worker_instances: 2,
    airflow_worker_concurrency: 1,
    airflow_webserver_workers: 2,
    airflow_dag_dir_list_interval: 10,
    airflow_health_timeout: 240,
  }),
});
const run = (o: { check?: boolean } = {}) => t.run({ check: o.check });
const web = () => `http://${t.sim.host('a1').address}:8082`;
const auth = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' };
const log = (s: string) => console.log(`[airflow] ${s}`);

async function api(path: string, init: RequestInit = {}): Promise<any> {
  const r = await fetch(`${web()}/api/v1${path}`, { ...init, headers: auth });
  const body = await r.text();
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${body.slice(0, 300)}`);
  return JSON.parse(body);
}
const fernet = (h: string) => t.on(h, `sed -n 's/^AIRFLOW__CORE__FERNET_KEY="\\(.*\\)"$/\\1/p' /etc/airflow/airflow.env`).then((s) => s.trim());
const venvOps = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'op-result' && e.result.kind === 'python-venv' ? [`${e.host} ${e.result.status}: ${e.result.reason}`] : []));

const DAG = `
import socket
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator

def where():
    print("ran on", socket.gethostname())
    return socket.gethostname()

with DAG("${DAG_ID}", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
    PythonOperator(task_id="where", python_callable=where)
`;

describe('airflow: CeleryExecutor on two hosts (datalyptica-minimal-5vm VM4 + VM5)', () => {
  let predicted: string[] = [];
  let key = '';

  it('--check on the fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      'a1 python-venv /opt/airflow/venv',
      'a2 python-venv /opt/airflow/venv',
      'a1 file /etc/airflow/airflow.cfg',
      'a2 file /etc/airflow/airflow.env',
      'a1 command airflow db migrate (the schema is behind Airflow 2.10.4)',
      'a1 unit /etc/systemd/system/airflow-scheduler.service',
      'a1 unit /etc/systemd/system/airflow-webserver.service',
      'a1 unit /etc/systemd/system/airflow-triggerer.service',
      'a2 unit /etc/systemd/system/airflow-worker@.service',
    ]) {
      expect(predicted).toContain(p);
    }
    expect(predicted.filter((p) => p.startsWith('a2 command airflow'))).toEqual([]);
  });

  it('exactly as --check said; /health healthy; a DAG runs to success on the worker host a2', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) {
      for (const h of ['a1', 'a2']) log(`${h}'s journal:\n${(await t.sh(h, "journalctl -u 'airflow-*' --no-pager -n 80 | cut -c1-400")).stdout}`);
    }
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    log(`first run ${((Date.now() - t0) / 1000).toFixed(1)} s; ${venvOps(events).join('; ')}`);

    const health = await (await fetch(`${web()}/health`)).json();
    log(`/health: ${JSON.stringify(health)}`);
    expect(health.metadatabase.status).toBe('healthy');
    expect(health.scheduler.status).toBe('healthy');

    // one fernet key for both hosts, kept by the engine too; secrets only in airflow.env
    key = await fernet('a1');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(await fernet('a2')).toBe(key);
    expect((await t.on('a2', 'cat /var/lib/orch/values/airflow_fernet_key')).trim()).toBe(key);
    expect(await t.on('a1', "stat -c '%a %U %G' /etc/airflow/airflow.env /etc/airflow/airflow.cfg")).toBe('640 root airflow\n640 root airflow\n');
    const cfg = await t.on('a2', 'cat /etc/airflow/airflow.cfg');
    expect(cfg).toContain('executor = CeleryExecutor\n');
    expect(cfg).not.toContain(PG_PASSWORD);
    expect(cfg).not.toContain(key);
    expect(await t.on('a2', "systemctl is-active airflow-worker@1 airflow-worker@2 && ! systemctl list-unit-files 'airflow-scheduler*' | grep -q airflow")).toBe('active\nactive\n');

    // a DAG dropped into the dags folder of both hosts (the scheduler parses it, the worker runs it)
    const b64 = Buffer.from(DAG).toString('base64');
    for (const h of ['a1', 'a2']) await t.on(h, `echo ${b64} | base64 -d > /opt/airflow/dags/${DAG_ID}.py && chown airflow:airflow /opt/airflow/dags/${DAG_ID}.py`);
    const parsed = await waitFor(() => api(`/dags/${DAG_ID}`).catch(() => null), (d) => d !== null, 120_000, 2000);
    expect(parsed.value?.dag_id).toBe(DAG_ID);
    log(`DAG parsed after ${parsed.seconds.toFixed(1)} s`);
    await api(`/dags/${DAG_ID}`, { method: 'PATCH', body: JSON.stringify({ is_paused: false }) });
    const dagRun = await api(`/dags/${DAG_ID}/dagRuns`, { method: 'POST', body: JSON.stringify({ dag_run_id: 'orch-test-1' }) });
    expect(dagRun.dag_run_id).toBe('orch-test-1');
    const done = await waitFor(() => api(`/dags/${DAG_ID}/dagRuns/orch-test-1`), (r) => ['success', 'failed'].includes(r.state), 240_000, 2000);
    const tis = (await api(`/dags/${DAG_ID}/dagRuns/orch-test-1/taskInstances`)).task_instances as Array<{ task_id: string; state: string; hostname: string }>;
    log(`DAG run ${done.value.state} after ${done.seconds.toFixed(1)} s: ${tis.map((ti) => `${ti.task_id} ${ti.state} on ${ti.hostname}`).join(', ')}`);
    expect(done.value.state).toBe('success');
    const a2 = (await t.on('a2', 'hostname')).trim();
    expect(tis).toEqual([expect.objectContaining({ task_id: 'where', state: 'success', hostname: a2 })]);
  });

  it('a rerun changes nothing and installs nothing; the fernet key is unchanged; --check after it: 0 changes', async () => {
    const t0 = Date.now();
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events)).toEqual([]);
    expect(handlers(again.events)).toEqual([]);
    expect(venvOps(again.events).sort()).toEqual(['a1', 'a2'].map((h) => `${h} ok: ${PINS.length} pins installed (lock ${lockDigest(PINS).slice(0, 12)})`).sort());
    log(`rerun ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await fernet('a1')).toBe(key);
    expect(await fernet('a2')).toBe(key);
    const check = await run({ check: true });
    expect(failures(check.events)).toEqual([]);
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting rewrites airflow.cfg and restarts every Airflow service of both hosts, healthy again; the DAG runs again on a2', async () => {
    const { code, events } = await t.run({ vars: { airflow_parallelism: 16 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health ')).sort()).toEqual(['a1 file /etc/airflow/airflow.cfg', 'a2 file /etc/airflow/airflow.cfg']);
    expect(handlers(events).filter((h) => h.includes('restart')).sort()).toEqual(['a1 restart airflow-scheduler', 'a1 restart airflow-triggerer', 'a1 restart airflow-webserver', 'a2 restart airflow-worker@1.service', 'a2 restart airflow-worker@2.service']);
    // rolled: a1 back (/health, its jobs) before a2's workers restart
    const h = handlers(events);
    expect(h).toEqual(expect.arrayContaining(['a1 health airflow', 'a2 health airflow']));
    expect(h.indexOf('a1 health airflow')).toBeLessThan(h.indexOf('a2 restart airflow-worker@1.service'));
    expect(await t.on('a2', "sed -n 's/^parallelism = //p' /etc/airflow/airflow.cfg")).toBe('16\n');
    await api(`/dags/${DAG_ID}/dagRuns`, { method: 'POST', body: JSON.stringify({ dag_run_id: 'orch-test-2' }) });
    const done = await waitFor(() => api(`/dags/${DAG_ID}/dagRuns/orch-test-2`), (r) => ['success', 'failed'].includes(r.state), 240_000, 2000);
    expect(done.value.state).toBe('success');
    const tis = (await api(`/dags/${DAG_ID}/dagRuns/orch-test-2/taskInstances`)).task_instances as Array<{ hostname: string }>;
    expect(tis.map((ti) => ti.hostname)).toEqual([(await t.on('a2', 'hostname')).trim()]);
    expect(changed((await t.run({ vars: { airflow_parallelism: 16 } })).events)).toEqual([]);
  });

  it("the broker through the Sentinels: the Redis master stopped, a1's replica promoted, the DAG runs again on a2 through it", async () => {
    const [a1, a2] = [t.sim.host('a1').address, t.sim.host('a2').address];
    const broker = await t.on('a2', "sed -n 's/^AIRFLOW__CELERY__BROKER_URL=//p' /etc/airflow/airflow.env");
    expect(broker.replace(/:[^:@/]+@/g, ':***@').trim()).toBe(`"sentinel://:***@${a1}:26379/0;sentinel://:***@${a2}:26379/0"`);
    expect(await t.on('a1', "sed -n '/^\\[celery_broker_transport_options\\]/,/^\\[/p' /etc/airflow/airflow.cfg")).toContain('master_name = datalyptica\n');
    const master = () => t.on('a1', 'redis-cli -p 26379 SENTINEL get-master-addr-by-name datalyptica | head -n 1').then((s) => s.trim());
    expect(await master()).toBe(a2);
    const t0 = Date.now();
    await t.on('a2', 'systemctl stop redis-server');
    const promoted = await waitFor(master, (m) => m === a1, 60_000, 1000);
    log(`Sentinels promoted a1 after ${promoted.seconds.toFixed(1)} s`);
    await api(`/dags/${DAG_ID}/dagRuns`, { method: 'POST', body: JSON.stringify({ dag_run_id: 'orch-test-failover' }) });
    const done = await waitFor(() => api(`/dags/${DAG_ID}/dagRuns/orch-test-failover`), (r) => ['success', 'failed'].includes(r.state), 300_000, 2000);
    log(`DAG run after the failover: ${done.value.state}, ${((Date.now() - t0) / 1000).toFixed(1)} s after the master stopped`);
    expect(done.value.state).toBe('success');
    const tis = (await api(`/dags/${DAG_ID}/dagRuns/orch-test-failover/taskInstances`)).task_instances as Array<{ hostname: string }>;
    expect(tis.map((ti) => ti.hostname)).toEqual([(await t.on('a2', 'hostname')).trim()]);
    // both workers answer a Celery ping through the new master (the role's health check of a worker)
    const av = { airflow_venv: '/opt/airflow/venv', airflow_user: 'airflow', airflow_home: '/opt/airflow' } as unknown as AirflowVars;
    for (const id of ['1', '2']) expect((await t.sh('a2', workerPing(av, id))).code, `worker ${id}`).toBe(0);
  });
});
