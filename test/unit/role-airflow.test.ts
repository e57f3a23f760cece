/**
 * The airflow role offline, against datalyptica-minimal-5vm.md (Airflow 2.10.4: scheduler and webserver on 8082 on
 * VM4, two Celery workers on VM5), datalyptica-enterprise-50vm.md ("8. Airflow": CeleryExecutor, the metadata DB on
 * pg-vip:5432/airflow, the broker redis://redis-vip:6379/0, the result backend db+postgresql://..., the scheduler
 * thresholds 30 and 300) and vps-trio-resource-analysis.md (VPS 1: 2.8.4, LocalExecutor, its metadata-db on 5433,
 * webserver 8080, the /opt/airflow/{dags,logs,plugins,scripts} volumes, the containers' limits). The real cluster:
 * test/integration/role-airflow.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import airflow, { lockFileOf } from '../../roles/airflow/index.js';
import { ENV_FILE, FERNET_KEY, airflowCfg, airflowEnv, brokerUrl, generateFernetKey, sqlAlchemyConn, urlPart, type AirflowVars } from '../../roles/airflow/render.js';
import { parseLock } from '../../src/ops/python-lock.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(airflow) as unknown as AirflowVars;
const av = (over: Partial<AirflowVars> = {}): AirflowVars => ({ ...DEFAULTS, airflow_db_password: 'pw', airflow_fernet_key: `${'k'.repeat(43)}=`, airflow_webserver_secret_key: 's'.repeat(32), airflow_redis_password: 'r'.repeat(32), ...over });

// datalyptica-minimal-5vm.md: VM4 scheduler + webserver, VM5 two Celery workers; Redis master on VM3, Sentinels on VM1-3
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['redis_sentinel']),
  peer('vm2', '10.20.0.12', ['redis', 'redis_sentinel'], { redis_master_host: 'vm3' }),
  peer('vm3', '10.20.0.13', ['redis', 'redis_sentinel'], { redis_master_host: 'vm3' }),
  peer('vm4', '10.20.0.21', ['airflow', 'airflow_scheduler', 'airflow_webserver']),
  peer('vm5', '10.20.0.22', ['airflow', 'airflow_worker']),
];
const VPS1: PeerHost[] = [peer('vps1', '192.0.2.1', ['airflow', 'airflow_scheduler', 'airflow_webserver', 'postgresql'], { resource_limits: { 'airflow-webserver': { memory_mb: 800, cpus: 0.3 }, 'airflow-scheduler': { memory_mb: 1536, cpus: 0.8 } } })];
const VPS_VARS = { airflow_executor: 'LocalExecutor', airflow_webserver_port: 8080, airflow_db_host: 'localhost', airflow_db_port: 5433 };
const CLUSTER = { airflow_fernet_key: `${'f'.repeat(43)}=`, airflow_webserver_secret_key: 'w'.repeat(32), airflow_admin_password: 'Admin-pw-1', redis_password: 'b'.repeat(32) };

function ctx(o: { host?: string; vars?: Record<string, unknown>; peers?: PeerHost[] } = {}): RoleContext<any> {
  const peers = o.peers ?? MINIMAL;
  return roleContext(airflow, { peers, host: o.host ?? peers.find((p) => p.groups.includes('airflow'))!.name, vars: { airflow_db_password: 'Db-pw-1', ...o.vars }, cluster: CLUSTER });
}
const opsOf = (c: RoleContext<any>) => airflow.operations(c);
const names = (list: Operation<any>[]) => list.map((o) => `${o.kind} ${o.name}`);
/** `[section]` -> key -> value of an airflow.cfg */
function sections(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur = '';
  for (const l of text.split('\n')) {
    const s = /^\[(.+)\]$/.exec(l);
    if (s) out[(cur = s[1])] = {};
    else if (l && !l.startsWith('#')) out[cur][l.slice(0, l.indexOf(' = '))] = l.slice(l.indexOf(' = ') + 3);
  }
  return out;
}

describe('airflow: defaults from the seeds', () => {
  it("has the seeds' version, executor, port, folders, database and thresholds; the secrets are secret", () => {
    expect(DEFAULTS).toMatchObject({
      airflow_version: '2.10.4',
      airflow_python_version: '3.11',
      airflow_executor: 'CeleryExecutor',
      airflow_webserver_port: 8082,
      airflow_home: '/opt/airflow',
      airflow_dags_folder: '/opt/airflow/dags',
      airflow_logs_folder: '/opt/airflow/logs',
      airflow_plugins_folder: '/opt/airflow/plugins',
      airflow_scripts_folder: '/opt/airflow/scripts',
      airflow_db_host: 'pg-vip',
      airflow_db_port: 5432,
      airflow_db_name: 'airflow',
      airflow_redis_port: 6379,
      airflow_redis_db: 0,
      airflow_worker_instances: 2,
      airflow_scheduler_health_check_threshold: 30,
      airflow_scheduler_zombie_task_threshold: 300,
    });
    for (const k of ['airflow_db_password', 'airflow_redis_password', 'airflow_fernet_key', 'airflow_webserver_secret_key', 'airflow_admin_password'] as const) expect(airflow.vars[k].secret).toBe(true);
    expect(lockFileOf('2.10.4', '3.11')).toMatch(/roles\/airflow\/locks\/airflow-2\.10\.4-py3\.11\.txt$/);
    // the locks pin what Airflow's constraints of the release pin (a newer celery stack breaks its CeleryExecutor)
    const pins = (version: string) => new Map(parseLock(readFileSync(lockFileOf(version, '3.11'), 'utf8')).map((p) => [p.name, p.version]));
    expect(Object.fromEntries(['apache-airflow', 'celery', 'kombu', 'redis', 'apache-airflow-providers-celery'].map((n) => [n, pins('2.10.4').get(n)]))).toEqual({ 'apache-airflow': '2.10.4', celery: '5.4.0', kombu: '5.4.2', redis: '5.2.1', 'apache-airflow-providers-celery': '3.8.5' });
    expect(pins('2.8.4').get('apache-airflow')).toBe('2.8.4');
  });
});

describe('airflow: airflow.cfg and airflow.env', () => {
  it("minimal-5vm / enterprise-50vm: CeleryExecutor, the seed's settings, no secret in airflow.cfg", () => {
    const cfg = airflowCfg(av(), { redisHost: '10.20.0.13', address: '10.20.0.21' });
    const s = sections(cfg);
    expect(s.core).toMatchObject({ executor: 'CeleryExecutor', dags_folder: '/opt/airflow/dags', plugins_folder: '/opt/airflow/plugins', parallelism: '32', load_examples: 'False', dags_are_paused_at_creation: 'True' });
    expect(s.logging).toMatchObject({ base_log_folder: '/opt/airflow/logs', worker_log_server_port: '8793' });
    expect(s.scheduler).toMatchObject({ scheduler_health_check_threshold: '30', scheduler_zombie_task_threshold: '300', child_process_log_directory: '/opt/airflow/logs/scheduler' });
    expect(s.webserver).toMatchObject({ web_server_port: '8082', base_url: 'http://10.20.0.21:8082', workers: '4', config_file: '/etc/airflow/webserver_config.py', expose_config: 'False' });
    expect(s.celery).toEqual({ worker_concurrency: '16' });
    expect(s.api.auth_backends).toContain('basic_auth');
    for (const secret of ['pw', 'k'.repeat(43), 's'.repeat(32), 'r'.repeat(32)]) expect(cfg).not.toContain(secret);
    expect(cfg).not.toMatch(/fernet_key|sql_alchemy_conn|broker_url|result_backend|secret_key/);
  });

  it("airflow.env holds the seed's URLs (URL-encoded credentials) and keys, and sh reads them back byte for byte", () => {
    const password = `p@ss:w/rd'"$x%y!`;
    const v = av({ airflow_db_host: 'pg-vip', airflow_db_password: password, airflow_redis_password: 'Redis pw+1' });
    const env = airflowEnv(v, { redisHost: 'redis-vip', address: '10.20.0.21' });
    const file = join(tmp(), 'airflow.env');
    writeFileSync(file, env);
    const keys = ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'AIRFLOW__CORE__FERNET_KEY', 'AIRFLOW__WEBSERVER__SECRET_KEY', 'AIRFLOW__CELERY__BROKER_URL', 'AIRFLOW__CELERY__RESULT_BACKEND'];
    const r = spawnSync('sh', ['-c', `set -a; . "$1"; set +a; for k in ${keys.join(' ')}; do eval "printf '%s\\n' \\"\\$$k\\""; done`, 'sh', file], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const [conn, fernet, secret, broker, backend] = r.stdout.split('\n');
    expect(conn).toBe(`postgresql+psycopg2://airflow:${urlPart(password)}@pg-vip:5432/airflow`);
    expect(decodeURIComponent(new URL(conn.replace(/^postgresql\+psycopg2:/, 'http:')).password)).toBe(password);
    expect(backend).toBe(`db+postgresql://airflow:${urlPart(password)}@pg-vip:5432/airflow`);
    expect(broker).toBe('redis://:Redis%20pw%2B1@redis-vip:6379/0');
    expect(fernet).toBe(`${'k'.repeat(43)}=`);
    expect(secret).toBe('s'.repeat(32));
    expect(sqlAlchemyConn(av())).toBe('postgresql+psycopg2://airflow:pw@pg-vip:5432/airflow');
    expect(brokerUrl(av({ airflow_redis_password: '' }), { redisHost: 'redis-vip' })).toBe('redis://redis-vip:6379/0');
    // percent-encoded parts are literals for sh and systemd alike
    expect(urlPart(password)).toMatch(/^[A-Za-z0-9%._~-]+$/);
  });

  it("through the Sentinels (minimal-5vm's three): every Sentinel in the broker URL, the master's name in [celery_broker_transport_options]", () => {
    const c = { redisHost: '', sentinels: [['10.20.0.11', 26379], ['10.20.0.12', 26379], ['10.20.0.13', 26379]] as Array<[string, number]>, address: '10.20.0.21' };
    const v = av({ airflow_redis_password: 'Redis pw+1' });
    expect(brokerUrl(v, c)).toBe('sentinel://:Redis%20pw%2B1@10.20.0.11:26379/0;sentinel://:Redis%20pw%2B1@10.20.0.12:26379/0;sentinel://:Redis%20pw%2B1@10.20.0.13:26379/0');
    expect(sections(airflowCfg(v, c)).celery_broker_transport_options).toEqual({ master_name: 'datalyptica' });
    expect(airflowCfg(v, c)).not.toContain('Redis pw');
    // without Sentinels: no transport options
    expect(sections(airflowCfg(v, { redisHost: '10.20.0.13', address: '10.20.0.21' })).celery_broker_transport_options).toBeUndefined();
  });

  it('vps-trio: LocalExecutor on its own PostgreSQL (5433), webserver 8080: no [celery], no broker', () => {
    const v = av({ ...(VPS_VARS as Partial<AirflowVars>), airflow_version: '2.8.4' });
    const s = sections(airflowCfg(v, { redisHost: '', address: '192.0.2.1' }));
    expect(s.core.executor).toBe('LocalExecutor');
    expect(s.webserver.web_server_port).toBe('8080');
    expect(s.celery).toBeUndefined();
    const env = airflowEnv(v, { redisHost: '', address: '192.0.2.1' });
    expect(env).toContain('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:pw@localhost:5433/airflow"\n');
    expect(env).not.toContain('CELERY');
  });

  it('a fernet key is made as Fernet.generate_key() makes it', () => {
    const keys = new Set(Array.from({ length: 20 }, generateFernetKey));
    expect(keys.size).toBe(20);
    for (const k of keys) {
      expect(k).toMatch(FERNET_KEY);
      expect(Buffer.from(k.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length).toBe(32);
    }
  });
});

describe('airflow: operations per host', () => {
  it('VM4 (scheduler, webserver): venv from the lock, config, secrets, migrate and admin once, three units, /health', () => {
    const list = opsOf(ctx({ host: 'vm4' }));
    const n = names(list);
    expect(n).toEqual(expect.arrayContaining([
      'python-venv /opt/airflow/venv',
      'file /opt/airflow/requirements-2.10.4-py3.11.txt',
      'file /etc/airflow/airflow.cfg',
      'file /etc/airflow/airflow.env',
      'file /usr/local/bin/airflow',
      'command airflow db migrate (the schema is behind Airflow 2.10.4)',
      'command airflow users create admin (role Admin), once',
      'unit /etc/systemd/system/airflow-scheduler.service',
      'unit /etc/systemd/system/airflow-triggerer.service',
      'unit /etc/systemd/system/airflow-webserver.service',
      'health Airflow /health on vm4:8082: metadatabase and scheduler healthy',
    ]));
    // the order of the seed's install: venv, config, database, then the services
    expect(n.indexOf('python-venv /opt/airflow/venv')).toBeLessThan(n.indexOf('file /etc/airflow/airflow.cfg'));
    expect(n.indexOf('command airflow db migrate (the schema is behind Airflow 2.10.4)')).toBeLessThan(n.indexOf('unit /etc/systemd/system/airflow-scheduler.service'));
    expect(n.filter((x) => x.includes('airflow-worker@') && !x.startsWith('instances'))).toEqual([]);
    const venv = named(list, 'python-venv')!;
    expect(venv.notify).toEqual(['airflow-scheduler', 'airflow-triggerer', 'airflow-webserver']);
    // the migration only when check-migrations fails; the admin's password on stdin, not on a command line
    const migrate = named(list, 'command', 'command airflow db migrate (the schema is behind Airflow 2.10.4)'.slice(8))!;
    expect(migrate.fact!.command).toContain('/usr/local/bin/airflow db check-migrations -t 0');
    const admin = named(list, 'command', 'airflow users create admin (role Admin), once')!;
    const plan = admin.plan({ unless: 1 }) as Extract<Plan, { status: 'change' }>;
    expect(plan.script).toMatch(/^printf '%s\\n%s\\n' Admin-pw-1 Admin-pw-1 \| \/usr\/local\/bin\/airflow users create --role Admin --username admin /);
    expect(plan.script.split('|')[1]).not.toContain('Admin-pw-1');
    expect(admin.plan({ unless: 0 }).status).toBe('ok');
    const unit = written(named(list, 'unit', '/etc/systemd/system/airflow-webserver.service'));
    expect(unit).toContain('ExecStart=/opt/airflow/venv/bin/airflow webserver --pid /run/airflow/webserver.pid\n');
    expect(unit).toContain('EnvironmentFile=/etc/airflow/airflow.env\n');
    expect(unit).toContain('User=airflow\n');
    const env = named(list, 'file', ENV_FILE)!;
    expect(env.secret).toBe(true);
    // minimal-5vm's Sentinels name the broker (a failover moves it); airflow.cfg has the master's name at them
    const auth = `:${'b'.repeat(32)}@`;
    expect(written(env)).toContain(`AIRFLOW__CELERY__BROKER_URL="sentinel://${auth}10.20.0.11:26379/0;sentinel://${auth}10.20.0.12:26379/0;sentinel://${auth}10.20.0.13:26379/0"`);
    expect(written(named(list, 'file', '/etc/airflow/airflow.cfg')!)).toContain('\n[celery_broker_transport_options]\nmaster_name = datalyptica\n');
    // a broker given by address: that one, not through the Sentinels
    const given = airflow.operations(ctx({ host: 'vm4', vars: { airflow_redis_host: '10.20.0.13' } }));
    expect(written(named(given, 'file', ENV_FILE)!)).toContain(`AIRFLOW__CELERY__BROKER_URL="redis://${auth}10.20.0.13:6379/0"`);
    expect(written(env)).toContain(`AIRFLOW__CORE__FERNET_KEY="${'f'.repeat(43)}="`);
  });

  it("the venv's interpreter: Debian 12's python3 (3.11, with python3-venv); RHEL's python3.11, installed (its python3 is 3.9)", () => {
    const script = (facts: 'debian' | 'redhat') => {
      const list = airflow.operations(roleContext(airflow, { peers: MINIMAL, host: 'vm4', facts: { osFamily: facts }, vars: { airflow_db_password: 'pw' }, cluster: CLUSTER }));
      const p = named(list, 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>;
      return { venv: p.script, packages: named(list, 'packages')!.name };
    };
    expect(script('debian').venv).toContain('|| python3 -m venv /opt/airflow/venv');
    expect(script('debian').packages).toContain('python3-venv');
    expect(script('redhat').venv).toContain('|| python3.11 -m venv /opt/airflow/venv');
    expect(script('redhat').packages).toContain('python3.11');
  });

  it('VM5 (workers): two airflow-worker@ instances, only the first serving logs; no migration, no scheduler', () => {
    const list = opsOf(ctx({ host: 'vm5' }));
    const n = names(list);
    expect(n).toEqual(expect.arrayContaining([
      'unit /etc/systemd/system/airflow-worker@.service',
      'instance /etc/systemd/system/airflow-worker@1.service.d/orch-instance.conf',
      'instance /etc/systemd/system/airflow-worker@2.service.d/orch-instance.conf',
      'service airflow-worker@1.service',
      'service airflow-worker@2.service',
      'health Celery worker 1@vm5 answers a ping',
    ]));
    expect(n.filter((x) => /command|airflow-scheduler|airflow-webserver/.test(x))).toEqual([]);
    expect(written(named(list, 'unit', '/etc/systemd/system/airflow-worker@.service'))).toContain('ExecStart=/opt/airflow/venv/bin/airflow celery worker --celery-hostname %i@%H --concurrency ${AIRFLOW_WORKER_CONCURRENCY} $AIRFLOW_WORKER_OPTIONS\n');
    expect(written(named(list, 'instance', '/etc/systemd/system/airflow-worker@1.service.d/orch-instance.conf'))).toContain('Environment="AIRFLOW_WORKER_OPTIONS="');
    expect(written(named(list, 'instance', '/etc/systemd/system/airflow-worker@2.service.d/orch-instance.conf'))).toContain('Environment="AIRFLOW_WORKER_OPTIONS=--skip-serve-logs"');
    expect(named(list, 'python-venv')!.notify).toEqual(['airflow-worker@1.service', 'airflow-worker@2.service']);
  });

  it("vps-trio VPS 1: LocalExecutor, scheduler + triggerer + webserver on one host, the document's limits as MemoryMax=/CPUQuota=", () => {
    const list = opsOf(ctx({ peers: VPS1, vars: VPS_VARS }));
    const n = names(list);
    expect(n.filter((x) => x.startsWith('unit '))).toEqual(['unit /etc/systemd/system/airflow-scheduler.service', 'unit /etc/systemd/system/airflow-triggerer.service', 'unit /etc/systemd/system/airflow-webserver.service']);
    expect(n).toContain('command airflow db migrate (the schema is behind Airflow 2.10.4)');
    const web = written(named(list, 'unit', '/etc/systemd/system/airflow-webserver.service'));
    expect(web).toContain('MemoryMax=800M');
    expect(web).toContain('CPUQuota=30%');
    expect(written(named(list, 'unit', '/etc/systemd/system/airflow-scheduler.service'))).toContain('MemoryMax=1536M');
    expect(written(named(list, 'file', ENV_FILE))).not.toContain('CELERY');
    const decl = airflow.declares!(ctx({ peers: VPS1, vars: VPS_VARS }));
    expect(decl.ports!.map((p) => p.port)).toEqual([8080, 8793, 8794]);
    // the units' limits are what `orch plan` counts, not the datalyptica seed's 8 GB / 4 + 4 GB / 2
    expect(decl).toMatchObject({ memoryMb: 1536 + 800, cpus: 1.1 });
    // no broker password is asked of any Redis host
    expect(airflow.clusterValues!(ctx({ peers: VPS1, vars: VPS_VARS })).map((s) => s.name)).toEqual(['airflow_fernet_key', 'airflow_webserver_secret_key', 'airflow_admin_password']);
  });
});

describe('airflow: cluster values, declarations, validation', () => {
  it('fernet and secret keys are one value for group airflow, read back from airflow.env; the broker password is the redis role\'s', () => {
    const specs = airflow.clusterValues!(ctx({ host: 'vm4' }));
    expect(specs.map((s) => `${s.name} ${s.group}`)).toEqual(['airflow_fernet_key airflow', 'airflow_webserver_secret_key airflow', 'airflow_admin_password airflow', 'redis_password redis_sentinel']);
    expect(specs.every((s) => s.secret)).toBe(true);
    const fernet = specs[0];
    expect(fernet.generate!()).toMatch(fernet.pattern!);
    // the read prints the key airflow.env holds
    const file = join(tmp(), 'airflow.env');
    writeFileSync(file, airflowEnv(av(), { redisHost: 'r', address: 'a' }));
    const r = spawnSync('sh', ['-c', fernet.read!.replace(ENV_FILE, file)], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${'k'.repeat(43)}=\n`);
    // a given broker password: no cluster value for it
    expect(airflow.clusterValues!(ctx({ vars: { airflow_redis_password: 'given-pw-1' } })).map((s) => s.name)).not.toContain('redis_password');
  });

  it('restarts roll host by host behind what the host runs: /health and the jobs on VM4, every worker ping on VM5', () => {
    const web = airflow.rollout!(ctx({ host: 'vm4' }));
    expect(web.services).toEqual(['airflow-scheduler', 'airflow-triggerer', 'airflow-webserver']);
    expect(web.health.command).toContain("curl -fsS --max-time 10 http://10.20.0.21:8082/health | /opt/airflow/venv/bin/python -c");
    expect(web.health.command).toContain('/usr/local/bin/airflow jobs check --job-type SchedulerJob --local && /usr/local/bin/airflow jobs check --job-type TriggererJob --local');
    const workers = airflow.rollout!(ctx({ host: 'vm5' }));
    expect(workers.services).toEqual(['airflow-worker@*']);
    expect(workers.health.command.match(/inspect ping/g)).toHaveLength(2);
    expect(workers.health.description).toBe('Airflow on vm5 back (2 Celery workers)');
  });

  it("no airflow_db_password: the owner's password patroni generated (db_password_airflow of group patroni), else refused", () => {
    const withPatroni = MINIMAL.map((p) => (['vm1', 'vm2', 'vm3'].includes(p.name) ? { ...p, groups: [...p.groups, 'patroni'] } : p));
    const c = roleContext(airflow, { peers: withPatroni, host: 'vm4', vars: { airflow_db_password: '' }, cluster: { ...CLUSTER, db_password_airflow: 'Generated-pw-9' } });
    expect(airflow.clusterValues!(c).map((x) => `${x.name} ${x.group}`)).toContain('db_password_airflow patroni');
    expect(airflow.validate!(c)).toEqual([]);
    expect(written(named(airflow.operations(c), 'file', ENV_FILE))).toContain('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:Generated-pw-9@pg-vip:5432/airflow"');
    // a given password: nothing read from the database cluster
    expect(airflow.clusterValues!(ctx({ host: 'vm4' })).map((x) => x.name)).not.toContain('db_password_airflow');
    expect(airflow.validate!(ctx({ host: 'vm4', vars: { airflow_db_password: '' } }))).toEqual([expect.stringContaining('airflow_db_password is empty and airflow_database_group "patroni" names no group of the inventory')]);
  });

  it("declares the seed's sizes: VM4 scheduler 8 GB + webserver 4 GB on 8082, VM5 2 x 16 GB workers", () => {
    expect(airflow.declares!(ctx({ host: 'vm4' }))).toMatchObject({ memoryMb: 12288, cpus: 6, ports: [{ port: 8082 }, { port: 8794 }] });
    expect(airflow.declares!(ctx({ host: 'vm5' }))).toMatchObject({ memoryMb: 32768, cpus: 8, ports: [{ port: 8793 }] });
  });

  it('refuses what cannot work: a version without a lock, a host outside the groups, a key set twice, workers with LocalExecutor', () => {
    expect(airflow.validate!(ctx({ host: 'vm4' }))).toEqual([]);
    expect(airflow.validate!(ctx({ host: 'vm4', vars: { airflow_version: '2.9.3' } }))).toEqual([expect.stringContaining('airflow_version 2.9.3: no lock roles/airflow/locks/airflow-2.9.3-py3.11.txt')]);
    // vps-trio's 2.8.4 has its lock
    expect(airflow.validate!(ctx({ peers: VPS1, vars: { ...VPS_VARS, airflow_version: '2.8.4' } }))).toEqual([]);
    expect(airflow.validate!(ctx({ host: 'vm1' }))).toEqual([
      'host vm1 runs airflow but is not in group airflow (the holders of the fernet key)',
      'host vm1 runs airflow but is in none of airflow_scheduler, airflow_webserver, airflow_worker: it would run nothing',
    ]);
    expect(airflow.validate!(ctx({ host: 'vm4', vars: { airflow_extra_config: { core: { executor: 'KubernetesExecutor', default_pool_task_slot_count: 64 } } } }))).toEqual(['airflow_extra_config.core.executor: set by the role from its own variables']);
    expect(airflow.validate!(ctx({ host: 'vm5', vars: { airflow_executor: 'LocalExecutor' } }))).toEqual([
      'host vm5 runs airflow but is in none of airflow_scheduler, airflow_webserver: it would run nothing',
      "host vm5 is in airflow_worker but airflow_executor is LocalExecutor (tasks run on the scheduler's host)",
    ]);
    expect(airflow.validate!(ctx({ host: 'vm4', vars: { airflow_fernet_key: 'short' } }))).toEqual([expect.stringContaining('airflow_fernet_key: not a fernet key')]);
    const noRedis = MINIMAL.filter((p) => !p.groups.includes('redis') && !p.groups.includes('redis_sentinel'));
    expect(airflow.validate!(ctx({ host: 'vm4', peers: noRedis, vars: { airflow_redis_password: 'given-broker-pw' } }))).toEqual([expect.stringContaining('airflow_redis_host is empty, group redis_sentinel has no Sentinel')]);
    // Sentinels alone are enough: they name the broker
    expect(airflow.validate!(ctx({ host: 'vm4', peers: MINIMAL.filter((p) => !p.groups.includes('redis')) }))).toEqual([]);
  });
});
