/**
 * postgresql role: defaults are vps-trio's two instances, renderers against the seeds' values, Debian (postgresql-common
 * clusters) and RHEL (PGDG) packages and paths, SCRAM verifiers and the idempotent roles/databases operation.
 */
import { describe, expect, it } from 'vitest';
import postgresql, { LOCAL_HBA, rhelUnit } from '../../roles/postgresql/index.js';
import { databasesOp, memorySettings, normalizeSetting, pgdgAptSource, pgdgCodename, pgLayout, renderConf, renderPgHba, scramMatches, scramVerifier, type DbFact } from '../../roles/postgresql/render.js';
import type { HostFacts, RoleContext } from '../../src/role/define.js';
import type { Operation } from '../../src/ops/types.js';
import { hostFacts } from './role-harness.js';

const facts = (osFamily: HostFacts['osFamily'], memoryMb = 4096): HostFacts => hostFacts({ osFamily, osId: osFamily === 'redhat' ? 'rocky' : 'debian', cpus: 2, memoryMb, hostname: 'vps1' });

const defaults = Object.fromEntries(Object.entries(postgresql.vars).map(([k, s]) => [k, s.default]));
function ctx(osFamily: HostFacts['osFamily'], vars: Record<string, unknown> = {}, memoryMb = 4096): RoleContext<any> {
  const self = { name: 'vps1', address: '192.0.2.11', groups: ['postgresql'], vars: {} };
  const other = { name: 'vps2', address: '192.0.2.12', groups: ['clickhouse'], vars: {} };
  return {
    vars: { ...defaults, ...vars },
    host: { ...self, facts: facts(osFamily, memoryMb) },
    group: () => [self],
    allHosts: () => [self, other],
    exported: () => ({}),
    cluster: () => '',
  } as RoleContext<any>;
}
const content = (op: Operation | undefined) => (op?.plan({ stat: null, sha256: null }) as any)?.diff?.after as string;
const find = (list: Operation[], name: string) => list.find((o) => o.name === name);

describe('postgresql: defaults are the seeds', () => {
  it("vps-trio's two instances: metadata-db on 5433 (Airflow, 256 MB) and datalake-db on 5432 (512 MB); PostgreSQL 16 from the project's repository", () => {
    expect(defaults.postgresql_version).toBe('16');
    expect(defaults.postgresql_repository).toBe('pgdg');
    expect((defaults.postgresql_instances as any[]).map((i) => [i.name, i.port, i.memory_mb, i.data_dir])).toEqual([
      ['metadata', 5433, 256, '/pg_metadata'],
      ['datalake', 5432, 512, '/pg_datalake'],
    ]);
    const d = postgresql.declares!(ctx('debian') as any);
    expect(d.ports!.map((p) => p.port)).toEqual([5433, 5432]);
    expect(d.memoryMb).toBe(768);
  });

  it('sizes memory as datalyptica-enterprise-50vm.md does: 64 GB -> shared_buffers 16 GB, effective_cache_size 48 GB', () => {
    expect(memorySettings(64 * 1024, 500)).toEqual({ shared_buffers: '16GB', effective_cache_size: '48GB', work_mem: '32MB', maintenance_work_mem: '2GB' });
    expect(memorySettings(256, 100)).toEqual({ shared_buffers: '64MB', effective_cache_size: '192MB', work_mem: '4MB', maintenance_work_mem: '64MB' });
  });

  it('validate: two instances on one port are refused', () => {
    const bad = postgresql.validate!(ctx('debian', { postgresql_instances: [{ name: 'a', port: 5432 }, { name: 'b', port: 5432 }] }));
    expect(bad).toEqual(['postgresql_instances: two instances have the port 5432']);
    expect(postgresql.validate!(ctx('debian'))).toEqual([]);
  });
});

describe('postgresql on Debian: postgresql-common clusters', () => {
  const list = postgresql.operations(ctx('debian'));
  it('no automatic main cluster, the pgdg repository signed by the key postgresql-common ships, then PostgreSQL 16', () => {
    expect(list.slice(0, 6).map((o) => `${o.kind} ${o.name}`)).toEqual([
      'dir /etc/postgresql-common/createcluster.d',
      'file /etc/postgresql-common/createcluster.d/orch.conf',
      'packages postgresql-common, ca-certificates',
      'file /etc/apt/sources.list.d/pgdg.list',
      'packages postgresql-16, postgresql-client-16',
      'command pg_createcluster 16 metadata -p 5433',
    ]);
    expect(content(list[1])).toContain('create_main_cluster = false');
    expect(content(list[3])).toBe(pgdgAptSource('bookworm'));
    expect(pgdgAptSource('bookworm')).toContain('deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main');
    expect(pgdgCodename({ osId: 'ubuntu', osVersion: '24.04' })).toBe('noble');
    const dist = postgresql.operations(ctx('debian', { postgresql_repository: 'distribution', postgresql_version: '15' })).map((o) => o.name);
    expect(dist).not.toContain('/etc/apt/sources.list.d/pgdg.list');
    expect(dist).toContain('postgresql-15, postgresql-client-15');
  });

  it('each instance: pg_createcluster, a conf.d drop-in sized from its memory, pg_hba from the inventory, postgresql@16-NAME', () => {
    const create = find(list, 'pg_createcluster 16 metadata -p 5433')!;
    expect((create.plan({ created: false }) as any).script).toBe("pg_createcluster 16 metadata -p 5433 -d /pg_metadata -- --auth-local=peer --auth-host=scram-sha-256 --data-checksums");
    expect(create.plan({ created: true }).status).toBe('ok');
    const conf = content(find(list, '/etc/postgresql/16/metadata/conf.d/90-orch.conf'));
    expect(conf).toBe(
      [
        '# Managed by orch (role postgresql): instance metadata',
        "effective_cache_size = '192MB'",
        "listen_addresses = '*'",
        "maintenance_work_mem = '64MB'",
        'max_connections = 100',
        "password_encryption = 'scram-sha-256'",
        'port = 5433',
        "shared_buffers = '64MB'",
        "unix_socket_directories = '/var/run/postgresql'",
        "work_mem = '4MB'",
        '',
      ].join('\n'),
    );
    expect(content(find(list, '/etc/postgresql/16/datalake/conf.d/90-orch.conf'))).toContain("shared_buffers = '128MB'");
    const hba = content(find(list, '/etc/postgresql/16/metadata/pg_hba.conf'));
    expect(hba.split('\n').slice(2, -1)).toEqual([
      'local   all             postgres                                peer',
      'local   all             all                                     peer',
      'host    all             all             127.0.0.1/32            scram-sha-256',
      'host    all             all             ::1/128                 scram-sha-256',
      'host    all             all             192.0.2.11/32           scram-sha-256',
      'host    all             all             192.0.2.12/32           scram-sha-256',
    ]);
    expect(find(list, '/etc/postgresql/16/metadata/pg_hba.conf')!.notify).toEqual(['postgresql@16-metadata.service']);
    expect(list.filter((o) => o.kind === 'service').map((o) => o.name)).toEqual(['postgresql@16-metadata.service', 'postgresql@16-datalake.service']);
    expect(list.filter((o) => o.kind === 'postgresql').map((o) => o.name)).toEqual(['metadata: databases and owners', 'datalake: databases and owners']);
  });

  it('an instance without memory_mb shares the host memory (cgroup-aware facts) with the others', () => {
    const l = postgresql.operations(ctx('debian', { postgresql_instances: [{ name: 'a', port: 5432 }, { name: 'b', port: 5433 }] }, 8192));
    expect(content(find(l, '/etc/postgresql/16/a/conf.d/90-orch.conf'))).toContain("shared_buffers = '1GB'");
    expect(content(find(l, '/etc/postgresql/16/a/conf.d/90-orch.conf'))).toContain("effective_cache_size = '3GB'");
  });
});

describe('postgresql on RHEL: PGDG packages, paths, one unit per instance', () => {
  const list = postgresql.operations(ctx('redhat'));
  it('postgresql16-server, /usr/pgsql-16, postgresql-16-setup initdb per instance unit, conf.d included', () => {
    expect(pgLayout('16', { osFamily: 'redhat' }).binDir).toBe('/usr/pgsql-16/bin');
    expect(list.map((o) => `${o.kind} ${o.name}`).slice(0, 6)).toEqual([
      'command PGDG yum repository',
      'packages postgresql16-server, postgresql16',
      'unit /etc/systemd/system/postgresql-16-metadata.service',
      'dir /pg_metadata',
      'command postgresql-16-setup initdb postgresql-16-metadata',
      "lineInFile /pg_metadata/postgresql.conf: include_dir = 'conf.d'",
    ]);
    expect((list[0].plan({ created: false }) as any).script).toContain('https://download.postgresql.org/pub/repos/yum/reporpms/EL-9-x86_64/pgdg-redhat-repo-latest.noarch.rpm');
    expect((list[4].plan({ created: false }) as any).script).toBe(
      "PGSETUP_INITDB_OPTIONS='--auth-local=peer --auth-host=scram-sha-256 --data-checksums' /usr/pgsql-16/bin/postgresql-16-setup initdb postgresql-16-metadata",
    );
    const unit = rhelUnit('16', 'metadata', '/pg_metadata', '/usr/pgsql-16/bin');
    expect(unit).toContain('Environment=PGDATA=/pg_metadata');
    expect(unit).toContain('ExecStart=/usr/pgsql-16/bin/postgres -D ${PGDATA}');
    expect(list.map((o) => o.name)).toContain('/pg_metadata/conf.d/90-orch.conf');
    expect(list.map((o) => o.name)).toContain('/pg_datalake/pg_hba.conf');
    expect(list.filter((o) => o.kind === 'service').map((o) => o.name)).toEqual(['postgresql-16-metadata.service', 'postgresql-16-datalake.service']);
  });
});

describe('settings, pg_hba, SCRAM', () => {
  it('compares desired values in the unit pg_settings reports', () => {
    expect(normalizeSetting('256MB', '8kB')).toBe('32768');
    expect(normalizeSetting('16GB', '8kB')).toBe('2097152');
    expect(normalizeSetting('4MB', 'kB')).toBe('4096');
    expect(normalizeSetting('1GB', 'MB')).toBe('1024');
    expect(normalizeSetting('5min', 's')).toBe('300');
    expect(normalizeSetting(500, '')).toBe('500');
    expect(normalizeSetting('replica', '')).toBe('replica');
    expect(normalizeSetting(true, '')).toBe('on');
    expect(normalizeSetting('on', '')).toBe('on');
  });

  it('renders conf values quoted and pg_hba aligned; refuses a field with a space', () => {
    expect(renderConf({ a_b: "it's", n: 5, on_off: true }, 'h')).toBe("# h\na_b = 'it''s'\nn = 5\non_off = on\n");
    expect(() => renderPgHba([{ type: 'host', database: 'all', user: 'a b', address: '1.2.3.4', method: 'trust' }], 'h')).toThrow(/invalid field/);
    expect(LOCAL_HBA[0]).toEqual({ type: 'local', database: 'all', user: 'postgres', method: 'peer' });
  });

  it('SCRAM-SHA-256 verifiers in pg_authid format match their password only', () => {
    const ver = scramVerifier('s3cret-Pw', Buffer.from('0123456789abcdef'));
    expect(ver).toMatch(/^SCRAM-SHA-256\$4096:MDEyMzQ1Njc4OWFiY2RlZg==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(scramMatches('s3cret-Pw', ver)).toBe(true);
    expect(scramMatches('s3cret-pw', ver)).toBe(false);
    expect(scramMatches('s3cret-Pw', 'md5abc')).toBe(false);
    expect(scramVerifier('x')).not.toBe(scramVerifier('x')); // a fresh salt each time
  });
});

describe('databases and owners: idempotent SQL, passwords as verifiers on stdin', () => {
  const op = databasesOp({ name: 'd', socketDir: '/var/run/postgresql', port: 5433, databases: [{ name: 'airflow', owner: 'airflow' }], passwords: { airflow: 'Airflow-Pw-1' } });
  const fact = (f: Partial<DbFact>): DbFact => ({ up: true, roles: new Map(), databases: new Map(), ...f });
  it('reads roles and databases through psql as postgres on the socket', () => {
    expect(op.fact!.command).toContain("runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p 5433 -d postgres -At -c");
    expect(op.fact!.parse('UP|1\nR|airflow|SCRAM-SHA-256$4096:x$y:z\nD|airflow|airflow\n', 0)).toEqual(
      fact({ roles: new Map([['airflow', 'SCRAM-SHA-256$4096:x$y:z']]), databases: new Map([['airflow', 'airflow']]) }),
    );
    expect(op.secret).toBe(true);
  });

  it('creates what is missing (guarded), never with the password itself in the script', () => {
    const p = op.plan(fact({})) as any;
    expect(p.status).toBe('change');
    expect(p.reason).toBe('create role airflow, set the password of airflow, create database airflow owner airflow');
    expect(p.script).toContain(`runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p 5433 -d postgres <<'ORCH_SQL'`);
    expect(p.script).toContain(`select 'create role "airflow" login' where not exists (select 1 from pg_roles where rolname = 'airflow')\n\\gexec`);
    expect(p.script).toMatch(/alter role "airflow" login password 'SCRAM-SHA-256\$4096:/);
    expect(p.script).not.toContain('Airflow-Pw-1');
    expect((op.plan({ up: false, roles: new Map(), databases: new Map() }) as any).reason).toMatch(/^server not answering yet/);
  });

  it('ok when roles, owners and passwords are as desired; a changed password or owner is the only change', () => {
    const good = fact({ roles: new Map([['airflow', scramVerifier('Airflow-Pw-1')]]), databases: new Map([['airflow', 'airflow']]) });
    expect(op.plan(good)).toEqual({ status: 'ok', reason: '1 databases with their owners and passwords' });
    const stale = fact({ roles: new Map([['airflow', scramVerifier('old')]]), databases: new Map([['airflow', 'postgres']]) });
    expect((op.plan(stale) as any).reason).toBe('set the password of airflow (differs), owner of airflow postgres -> airflow');
  });
});

describe('generated owner passwords (postgresql_generate_passwords), as patroni makes them', () => {
  it('off by default: no cluster value, an owner without a password logs in by the local rules only', () => {
    expect(postgresql.clusterValues!(ctx('debian') as any)).toEqual([]);
  });

  it('on: every owner without a password gets db_password_<owner> of postgresql_group; the given ones are kept', () => {
    const on = ctx('debian', { postgresql_generate_passwords: true, postgresql_passwords: { datalake: 'Given-Pw-1' } });
    const cv = postgresql.clusterValues!(on as any);
    expect(cv.map((c) => [c.name, c.group, c.secret])).toEqual([['db_password_airflow', 'postgresql', true]]);
    // the generated one is set on the role (as a SCRAM verifier, from the cluster value), the given one as given
    const withValues = { ...on, cluster: (n: string) => (n === 'db_password_airflow' ? 'Generated-Pw-2' : '') } as RoleContext<any>;
    const ops = postgresql.operations(withValues) as Operation[];
    const metadata = ops.find((o) => o.name === 'metadata: databases and owners')!;
    const p = metadata.plan({ up: true, roles: new Map([['airflow', scramVerifier('Generated-Pw-2')]]), databases: new Map([['airflow', 'airflow']]) } as DbFact);
    expect(p).toEqual({ status: 'ok', reason: '1 databases with their owners and passwords' });
    const datalake = ops.find((o) => o.name === 'datalake: databases and owners')!;
    expect((datalake.plan({ up: true, roles: new Map([['datalake', scramVerifier('other')]]), databases: new Map([['datalake', 'datalake']]) } as DbFact) as any).reason).toBe('set the password of datalake (differs)');
    expect(postgresql.clusterValues!(ctx('debian', { postgresql_generate_passwords: true, postgresql_group: 'metadata_db' }) as any).map((c) => c.group)).toEqual(['metadata_db', 'metadata_db']);
  });
});
