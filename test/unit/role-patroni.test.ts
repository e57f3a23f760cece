import { scramVerifier } from '../../roles/postgresql/render.js';
/**
 * patroni role: defaults are the seeds (3 members, etcd, REST API 8008, synchronous mode with one sync standby,
 * max_connections 500, wal_level replica, memory sized as datalyptica-enterprise-50vm.md does, the seeds' databases),
 * patroni.yml rendered against them, Debian and RHEL packages and paths, the dynamic-configuration diff (PATCH only the
 * difference), the restart probe and the rollout policy.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import patroni, { patroniInstall, pipInstallCommand, RESTART_HANDLER, SEED_DATABASES } from '../../roles/patroni/index.js';
import { dcsDiff, dynamicConfigOp, healthCommand, leaderCommand, restartNeededOp, restartScript, type DcsConfig } from '../../roles/patroni/render.js';
import type { HostFacts, RoleContext } from '../../src/role/define.js';
import type { Operation } from '../../src/ops/types.js';
import { hostFacts } from './role-harness.js';

const facts = (osFamily: HostFacts['osFamily'], memoryMb: number): HostFacts => hostFacts({ osFamily, cpus: 16, memoryMb, hostname: 'pg01' });
const defaults = Object.fromEntries(Object.entries(patroni.vars).map(([k, s]) => [k, s.default]));
const members = ['pg01', 'pg02', 'pg03'].map((name, i) => ({ name, address: `192.0.2.${11 + i}`, groups: ['patroni', 'etcd'], vars: {} }));
const app = { name: 'app1', address: '192.0.2.40', groups: ['nessie'], vars: {} };
function ctx(osFamily: HostFacts['osFamily'], vars: Record<string, unknown> = {}, memoryMb = 64 * 1024): RoleContext<any> {
  return {
    vars: { ...defaults, ...vars },
    host: { ...members[0], facts: facts(osFamily, memoryMb) },
    group: (g: string) => (g === 'patroni' || g === 'etcd' ? members : []),
    allHosts: () => [...members, app],
    exported: () => ({}),
    cluster: (n: string) => (n === 'patroni_superuser_password' ? 'Super-Pw-1' : 'Repl-Pw-2'),
  } as RoleContext<any>;
}
const content = (op: Operation | undefined) => (op?.plan({ stat: null, sha256: null }) as any)?.diff?.after as string;
const yml = (c: RoleContext<any>) => parse(content(patroni.operations(c).find((o) => o.name === '/etc/patroni/config.yml')));

describe('patroni: defaults are the seeds', () => {
  it('REST API 8008, synchronous mode with one sync standby, max_connections 500, wal_level replica, failover timing under 30 s', () => {
    expect(defaults.patroni_restapi_port).toBe(8008);
    expect(defaults.patroni_port).toBe(5432);
    expect(defaults.patroni_synchronous_mode).toBe(true);
    expect(defaults.patroni_synchronous_node_count).toBe(1);
    expect(defaults.patroni_parameters).toMatchObject({ max_connections: 500, wal_level: 'replica' });
    expect([defaults.patroni_ttl, defaults.patroni_loop_wait, defaults.patroni_retry_timeout]).toEqual([20, 5, 5]);
    expect(defaults.patroni_install).toBe('pip');
    expect(defaults.patroni_version).toBe('3.3.2');
    expect(defaults.patroni_postgresql_version).toBe('16');
    expect(SEED_DATABASES.map((d) => `${d.name}:${d.owner}`)).toEqual(['datalyptica:datalyptica', 'nessie:nessie', 'keycloak:keycloak', 'airflow:airflow', 'superset:superset', 'grafana:grafana', 'mlflow:mlflow']);
    const d = patroni.declares!(ctx('debian') as any);
    expect(d.ports!.map((p) => p.port)).toEqual([5432, 8008]);
    expect(d.memoryMb).toBe(16 * 1024 + 512);
  });

  it('patroni.yml: etcd3 of the etcd group, one REST listen host:port, bootstrap.dcs as desired, memory 25% / 75% of 64 GB locally', () => {
    const y = yml(ctx('debian'));
    expect(y.scope).toBe('datalyptica');
    expect(y.name).toBe('pg01');
    expect(y.restapi).toEqual({ listen: '0.0.0.0:8008', connect_address: '192.0.2.11:8008' });
    expect(y.etcd3).toEqual({ hosts: ['192.0.2.11:2379', '192.0.2.12:2379', '192.0.2.13:2379'], protocol: 'http' });
    expect(y.bootstrap.dcs).toEqual({
      ttl: 20,
      loop_wait: 5,
      retry_timeout: 5,
      maximum_lag_on_failover: 1048576,
      synchronous_mode: true,
      synchronous_node_count: 1,
      postgresql: {
        use_pg_rewind: true,
        use_slots: true,
        parameters: { max_connections: 500, wal_level: 'replica', hot_standby: 'on', wal_log_hints: 'on', max_wal_senders: 10, max_replication_slots: 10, wal_keep_size: '1GB', password_encryption: 'scram-sha-256' },
      },
    });
    expect(y.postgresql.parameters).toEqual({ unix_socket_directories: '/var/run/postgresql', shared_buffers: '16GB', effective_cache_size: '48GB', work_mem: '32MB', maintenance_work_mem: '2GB' });
    expect(y.postgresql.listen).toBe('0.0.0.0:5432');
    expect(y.postgresql.connect_address).toBe('192.0.2.11:5432');
    expect(y.postgresql.data_dir).toBe('/data/postgresql/16/main');
    expect(y.postgresql.bin_dir).toBe('/usr/lib/postgresql/16/bin');
    expect(y.postgresql.authentication).toEqual({ superuser: { username: 'postgres', password: 'Super-Pw-1' }, replication: { username: 'replicator', password: 'Repl-Pw-2' } });
    expect(y.postgresql.pg_hba).toEqual([
      'local all all peer',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host replication replicator 127.0.0.1/32 scram-sha-256',
      'host replication replicator 192.0.2.11/32 scram-sha-256',
      'host replication replicator 192.0.2.12/32 scram-sha-256',
      'host replication replicator 192.0.2.13/32 scram-sha-256',
      'host all all 192.0.2.11/32 scram-sha-256',
      'host all all 192.0.2.12/32 scram-sha-256',
      'host all all 192.0.2.13/32 scram-sha-256',
      'host all all 192.0.2.40/32 scram-sha-256',
    ]);
    // a 1 GiB host (cgroup limit) gets a quarter of that
    expect(yml(ctx('debian', {}, 1024)).postgresql.parameters.shared_buffers).toBe('256MB');
    const file = patroni.operations(ctx('debian')).find((o) => o.name === '/etc/patroni/config.yml')!;
    expect(file.secret).toBe(true);
    expect(file.notify).toEqual(['orch-patroni-reload']);
  });

  it('validate: ttl too short for loop_wait and retry_timeout, no etcd hosts', () => {
    expect(patroni.validate!(ctx('debian'))).toEqual([]);
    expect(patroni.validate!(ctx('debian', { patroni_ttl: 10 }))).toEqual(['patroni_ttl 10 is less than loop_wait + 2 x retry_timeout (15): Patroni refuses it']);
    expect(patroni.validate!(ctx('debian', { patroni_etcd_group: 'nope' }))[0]).toMatch(/the etcd group nope .* has no hosts/);
  });

  it('passwords are cluster values generated once for the members (secret), unless the inventory gives them', () => {
    const cv = patroni.clusterValues!(ctx('debian') as any);
    expect(cv.map((c) => [c.name, c.group, c.secret, c.override])).toEqual([
      ['patroni_superuser_password', 'patroni', true, 'patroni_superuser_password'],
      ['patroni_replication_password', 'patroni', true, 'patroni_replication_password'],
      ...['datalyptica', 'nessie', 'keycloak', 'airflow', 'superset', 'grafana', 'mlflow'].map((o) => [`db_password_${o}`, 'patroni', true, undefined]),
    ]);
    expect(patroni.vars.patroni_superuser_password.emptyAllowed).toBe(true);
  });

  it("database owners without a password of the inventory's get the generated one, the others keep theirs", () => {
    const given = { patroni_passwords: { nessie: 'Given-pw-1' } };
    const names = patroni.clusterValues!(ctx('debian', given) as any).map((c) => c.name);
    expect(names).toContain('db_password_keycloak');
    expect(names).not.toContain('db_password_nessie');
    const c = ctx('debian', { ...given, patroni_install: 'package', patroni_postgresql_repository: 'distribution', patroni_postgresql_version: '15' });
    const dbs = patroni.operations({ ...c, cluster: (n: string) => `gen-${n}` } as any).find((o) => o.name === 'databases and owners (on the leader)')!;
    // the server holds each owner's password as the role means it: nothing to do
    const owners = ['datalyptica', 'nessie', 'keycloak', 'airflow', 'superset', 'grafana', 'mlflow'];
    const meant = (o: string) => (o === 'nessie' ? 'Given-pw-1' : `gen-db_password_${o}`);
    const fact = (pw: (o: string) => string) => ({ up: true, guard: 0, roles: new Map(owners.map((o) => [o, scramVerifier(pw(o))])), databases: new Map(owners.map((o) => [o, o])) });
    expect(dbs.plan(fact(meant) as any).status).toBe('ok');
    // the generated one in place of the given one (and the other way round) differs
    const swapped = dbs.plan(fact((o) => (o === 'nessie' ? 'gen-db_password_nessie' : o === 'keycloak' ? 'Given-pw-1' : meant(o))) as any);
    expect(swapped.status).toBe('change');
    expect(swapped.reason).toMatch(/set the password of nessie \(differs\).*set the password of keycloak \(differs\)/);
  });
});

describe('patroni: install and operations, Debian and RHEL', () => {
  it('Debian, distribution packages: no postgresql-common cluster, its umbrella service off, then the member', () => {
    const list = patroni.operations(ctx('debian', { patroni_install: 'package', patroni_postgresql_repository: 'distribution', patroni_postgresql_version: '15' }));
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'dir /etc/postgresql-common/createcluster.d',
      'file /etc/postgresql-common/createcluster.d/orch.conf',
      'packages postgresql-15, postgresql-client-15, patroni, python3-etcd, curl',
      "command postgresql.service (postgresql-common's clusters) disabled and stopped",
      'dir /etc/patroni',
      'file /etc/patroni/config.yml',
      'dir /data/postgresql/15',
      'dir /data/postgresql/15/main',
      'dir /usr/local/lib/orch',
      'file /usr/local/lib/orch/patroni-restart',
      'unit /etc/systemd/system/patroni.service',
      'unit /etc/systemd/system/orch-patroni-reload.service',
      'unit /etc/systemd/system/orch-patroni-restart.service',
      'service patroni.service',
      'waitForHttp http://127.0.0.1:8008/health',
      'patroni dynamic configuration (DCS)',
      'patroni PostgreSQL runs with the parameters that need a restart',
      'postgresql databases and owners (on the leader)',
    ]);
    expect(content(list.find((o) => o.name === '/etc/systemd/system/patroni.service'))).toContain('ExecStart=/usr/bin/patroni /etc/patroni/config.yml');
  });

  it("default: Patroni 3.3.2 from PyPI in a venv, PostgreSQL 16 from the project's repository", () => {
    const list = patroni.operations(ctx('debian'));
    const names = list.map((o) => o.name);
    expect(names).toContain('/etc/apt/sources.list.d/pgdg.list');
    expect(names).toContain('postgresql-16, postgresql-client-16, python3-venv, python3-pip, curl');
    const pip = list.find((o) => o.name === 'Patroni 3.3.2 from PyPI in /opt/patroni')!;
    expect((pip.plan({ unless: 1 }) as any).script).toBe(pipInstallCommand('3.3.2', ''));
    expect(pipInstallCommand('3.3.2', '')).toBe("python3 -m venv /opt/patroni\n/opt/patroni/bin/pip install --quiet 'patroni[etcd3]==3.3.2' psycopg2-binary");
    expect(pip.plan({ unless: 0 }).status).toBe('ok');
    expect(content(list.find((o) => o.name === '/etc/systemd/system/patroni.service'))).toContain('ExecStart=/opt/patroni/bin/patroni /etc/patroni/config.yml');
  });

  it('RHEL: PGDG postgresql16-server, /usr/pgsql-16/bin, /var/lib/pgsql, patroni + patroni-etcd packages', () => {
    const c = ctx('redhat', { patroni_install: 'package' });
    const list = patroni.operations(c);
    expect(list.slice(0, 2).map((o) => `${o.kind} ${o.name}`)).toEqual(['command PGDG yum repository', 'packages postgresql16-server, postgresql16, patroni, patroni-etcd, curl']);
    expect(list.map((o) => o.name).join('\n')).not.toContain('postgresql.service');
    const y = yml(c);
    expect(y.postgresql.bin_dir).toBe('/usr/pgsql-16/bin');
    expect(y.postgresql.pgpass).toBe('/var/lib/pgsql/.pgpass_patroni');
    expect(patroniInstall('pip', 'redhat').packages).toEqual(['python3', 'python3-pip']);
  });
});

describe('dynamic configuration: PATCH only the difference', () => {
  const desired: DcsConfig = {
    ttl: 20,
    loop_wait: 5,
    retry_timeout: 5,
    maximum_lag_on_failover: 1048576,
    synchronous_mode: true,
    synchronous_node_count: 1,
    postgresql: { use_pg_rewind: true, use_slots: true, parameters: { max_connections: 600, wal_level: 'replica', hot_standby: 'on' } },
  };
  const live = { ttl: 20, loop_wait: 5, retry_timeout: 5, maximum_lag_on_failover: 1048576, synchronous_mode: true, synchronous_node_count: 1, postgresql: { use_pg_rewind: true, use_slots: true, parameters: { max_connections: 500, wal_level: 'replica', hot_standby: true, archive_mode: 'off' } } };
  it('names each changed key and patches only it (on/true alike; keys orch does not manage left alone)', () => {
    expect(dcsDiff(live, desired)).toEqual({ changes: ['max_connections: 500 -> 600'], patch: { postgresql: { parameters: { max_connections: 600 } } } });
    expect(dcsDiff({ ...live, postgresql: { ...live.postgresql, parameters: { ...live.postgresql.parameters, max_connections: '600' } } }, desired).changes).toEqual([]);
    expect(dcsDiff({ ...live, ttl: 30 }, desired).patch).toEqual({ ttl: 20, postgresql: { parameters: { max_connections: 600 } } });
  });

  it('the op reads GET /config and PATCHes the body from stdin; ok while Patroni does not answer (bootstrap.dcs applies)', () => {
    const op = dynamicConfigOp(8008, desired);
    const f = op.fact!.parse(`C|200\nJ|${JSON.stringify(live)}\n`, 0);
    const p = op.plan(f) as any;
    expect(p.reason).toBe('PATCH /config: max_connections: 500 -> 600');
    expect(p.script).toContain("-X PATCH -H 'Content-Type: application/json' --data-binary @- http://127.0.0.1:8008/config <<'ORCH_JSON'\n{\"postgresql\":{\"parameters\":{\"max_connections\":600}}}\nORCH_JSON");
    expect(op.plan(op.fact!.parse('C|000\n', 0)).status).toBe('ok');
  });
});

describe('restarts: pg_settings says which parameters need one; rolled member by member, leader last', () => {
  const op = restartNeededOp({ socketDir: '/var/run/postgresql', port: 5432, parameters: { max_connections: 600, shared_buffers: '256MB', work_mem: '8MB' }, handler: RESTART_HANDLER });
  it('a postmaster parameter that differs (units as pg_settings has them) notifies the rolled handler; a sighup one does not', () => {
    expect(op.notify).toEqual(['orch-patroni-restart']);
    const f = op.fact!.parse('UP|1\nS|max_connections|500||postmaster|false\nS|shared_buffers|32768|8kB|postmaster|false\nS|work_mem|4096|kB|user|false\n', 0);
    const p = op.plan(f) as any;
    expect(p.status).toBe('change');
    expect(p.reason).toBe('max_connections 500 -> 600 (context postmaster): PostgreSQL restarted through Patroni, member by member, leader last');
    const same = op.fact!.parse('UP|1\nS|max_connections|600||postmaster|f\nS|shared_buffers|32768|8kB|postmaster|f\nS|work_mem|4096|kB|user|f\n', 0);
    expect(op.plan(same).status).toBe('ok');
    const pending = op.fact!.parse('UP|1\nS|max_connections|600||postmaster|false\nS|shared_buffers|32768|8kB|postmaster|true\n', 0);
    expect((op.plan(pending) as any).reason).toMatch(/^restart pending for shared_buffers/);
    expect(op.plan(op.fact!.parse('', 2)).status).toBe('ok');
  });

  it('the rollout: the handler unit, health (running, streaming, nothing pending), leader = /primary answers 200', () => {
    const r = patroni.rollout!(ctx('debian'));
    expect(r.services).toEqual(['orch-patroni-restart']);
    expect(r.leader).toBe(leaderCommand(8008));
    expect(leaderCommand(8008)).toBe(`[ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8008/primary)" = 200 ]`);
    expect(r.health.command).toBe(healthCommand(8008));
    expect(r.serial).toBe(1);
    const s = restartScript(8008, 135);
    expect(s).toContain(`-X POST -H 'Content-Type: application/json' -d '{"restart_pending": true}' "$api/restart"`);
    expect(s).toContain('pending_restart');
  });
});
