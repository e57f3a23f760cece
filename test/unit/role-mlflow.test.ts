/**
 * The mlflow role offline, against datalyptica-minimal-5vm.md (VM5: MLflow 2.19.0 on 5001, "ML tracking", 4 GB / 2
 * CPUs): defaults, the lock, the env files (read back by sh as the role's commands source them), the unit's
 * ExecStart (read back by systemd's quoting rules as sh reads them for these values), the schema helper and its
 * commands, validate, declarations and the operations in install order. The real server:
 * test/integration/role-mlflow.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import mlflow from '../../roles/mlflow/index.js';
import { ENV_FILE, SCHEMA_SCRIPT, SECRETS_FILE, backendUser, envFile, healthCheck, lockOnController, schemaCommand, secretsEnv, serverArgs, unit, type MlflowVars } from '../../roles/mlflow/render.js';
import { parseLock } from '../../src/ops/python-lock.js';
import type { Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { defaultsOf, named, peer, roleContext, sourced, written } from './role-harness.js';

const DEFAULTS = defaultsOf(mlflow) as unknown as MlflowVars;
const mv = (over: Partial<MlflowVars> = {}): MlflowVars => ({ ...DEFAULTS, mlflow_backend_store_password: 'pw', ...over });

// datalyptica-minimal-5vm.md: VM5 (10.20.0.22) runs MLflow; the Patroni cluster on VM1-3
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['control_plane', 'patroni']),
  peer('vm4', '10.20.0.21', ['data_plane']),
  peer('vm5', '10.20.0.22', ['data_plane', 'mlflow']),
];
const ctx = (o: { host?: string; vars?: Record<string, unknown>; peers?: PeerHost[] } = {}): RoleContext<any> =>
  roleContext(mlflow, { peers: o.peers ?? MINIMAL, host: o.host ?? 'vm5', vars: { mlflow_backend_store_password: 'pw', ...o.vars } });

describe('mlflow: defaults from the seed', () => {
  it("VM5's 2.19.0 on 5001, the backend store on the Patroni cluster, secrets marked", () => {
    expect(DEFAULTS).toMatchObject({
      mlflow_version: '2.19.0',
      mlflow_port: 5001,
      mlflow_backend_store_uri: 'postgresql://mlflow@pg-vip:5432/mlflow',
      mlflow_database_group: 'patroni',
      mlflow_artifacts_destination: '/var/lib/mlflow/artifacts',
      mlflow_workers: 4,
    });
    for (const k of ['mlflow_backend_store_password', 'mlflow_s3_access_key_id', 'mlflow_s3_secret_access_key'] as const) expect(mlflow.vars[k].secret).toBe(true);
    expect(mlflow.doc).toMatch(/PGPASSWORD/);
  });

  it("the repository's lock pins every package of MLflow 2.19.0 with psycopg2-binary and boto3, each with a sha256", () => {
    const pins = parseLock(readFileSync(lockOnController('2.19.0'), 'utf8'));
    const byName = new Map(pins.map((p) => [p.name, p]));
    expect(byName.get('mlflow')?.version).toBe('2.19.0');
    expect(byName.get('mlflow-skinny')?.version).toBe('2.19.0');
    for (const n of ['psycopg2-binary', 'boto3', 'gunicorn', 'alembic', 'sqlalchemy', 'flask']) expect(byName.has(n)).toBe(true);
    // MLflow 2.19 imports sqlalchemy.pool.FallbackAsyncAdaptedQueuePool, which SQLAlchemy 2.1 removed
    expect(byName.get('sqlalchemy')?.version).toMatch(/^2\.0\./);
    expect(pins.every((p) => p.hashes.length > 0 && p.hashes.every((h) => /^[0-9a-f]{64}$/.test(h)))).toBe(true);
    expect(pins.length).toBe(70);
  });
});

describe('mlflow: env files', () => {
  it('the password as PGPASSWORD and the S3 keys only in secrets.env; both read back byte for byte by sh', () => {
    const odd = `p'w "x" $HOME \`id\` \\ ;&|`;
    const v = mv({ mlflow_backend_store_password: odd, mlflow_artifacts_destination: 's3://datalyptica-mlflow/artifacts', mlflow_s3_endpoint_url: 'http://minio:9000', mlflow_s3_access_key_id: 'AK', mlflow_s3_secret_access_key: 'S$K`x`' });
    expect(sourced([envFile(v), secretsEnv(v)], ['PGPASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'MLFLOW_S3_ENDPOINT_URL', 'AWS_DEFAULT_REGION', 'HOME'])).toBe(
      `${odd}|AK|S$K\`x\`|http://minio:9000|us-east-1|/var/lib/mlflow|`,
    );
    expect(envFile(v)).not.toContain(odd);
    expect(envFile(v)).not.toContain('S$K');
    expect(unit(v)).not.toContain(odd);
  });

  it('a local artifact path: no S3 settings; no password: no PGPASSWORD line', () => {
    expect(envFile(mv())).toBe('# Managed by orch (role mlflow): the environment of mlflow.service and of the role\'s schema commands\nHOME="/var/lib/mlflow"\n');
    const v = mv({ mlflow_backend_store_password: '', mlflow_s3_access_key_id: 'AK', mlflow_s3_secret_access_key: 'SK' });
    expect(secretsEnv(v)).not.toMatch(/PGPASSWORD|AWS_/);
    expect(() => secretsEnv(mv({ mlflow_backend_store_password: 'a\nb' }))).toThrow(/newline/);
  });
});

describe('mlflow: unit', () => {
  it('runs mlflow server from the venv with the backend store, proxied artifacts and the gunicorn options', () => {
    const text = unit(mv());
    expect(text).toContain('User=mlflow\n');
    expect(text).toContain(`EnvironmentFile=${ENV_FILE}\nEnvironmentFile=${SECRETS_FILE}\n`);
    expect(text).toContain('Environment=PATH=/opt/mlflow/venv/bin:/usr/local/bin:/usr/bin:/bin\n');
    expect(text).toContain(
      'ExecStart=/opt/mlflow/venv/bin/mlflow server --host 0.0.0.0 --port 5001 --workers 4 --backend-store-uri postgresql://mlflow@pg-vip:5432/mlflow --serve-artifacts --artifacts-destination /var/lib/mlflow/artifacts --gunicorn-opts "--timeout 120 --graceful-timeout 30"\n',
    );
    expect(serverArgs(mv({ mlflow_workers: 2 }))).toContain('2');
  });
});

describe('mlflow: schema helper and commands', () => {
  it('the helper is valid Python; status and migrate run it as the service user with both env files sourced', () => {
    const r = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: SCHEMA_SCRIPT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const status = schemaCommand(mv(), 'status');
    expect(status).toBe(
      `runuser -u mlflow -- sh -c 'set -a; . /etc/mlflow/mlflow.env; . /etc/mlflow/secrets.env; set +a; exec /opt/mlflow/venv/bin/python /opt/mlflow/mlflow-schema.py "$1" "$2"' sh status postgresql://mlflow@pg-vip:5432/mlflow`,
    );
    for (const c of [status, schemaCommand(mv(), 'migrate')]) expect(spawnSync('sh', ['-n', '-c', c]).status).toBe(0);
  });

  it('the inner script receives the action and the URI as its own arguments', () => {
    // the same command with runuser and python replaced by echo: what the helper would see
    const cmd = schemaCommand(mv(), 'migrate').replace(/^runuser -u mlflow -- /, '').replace(/set -a;.*set \+a; exec [^ ]+ [^ ]+/, "printf '%s,' ");
    expect(spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout).toBe('migrate,postgresql://mlflow@pg-vip:5432/mlflow,');
  });

  it('the health check wants OK from /health and the release from /version', () => {
    expect(healthCheck('10.20.0.22', 5001, '2.19.0')).toBe(`[ "$(curl -fsS --max-time 5 http://10.20.0.22:5001/health)" = OK ] && [ "$(curl -fsS --max-time 5 http://10.20.0.22:5001/version)" = 2.19.0 ]`);
  });

  it('the database user comes from the URI', () => {
    expect(backendUser('postgresql+psycopg2://ml_user@db:5432/mlflow')).toBe('ml_user');
  });
});

describe('mlflow: validate and declarations', () => {
  it('refuses a host outside its group, a release without a lock, half the S3 keys, no password without a database group', () => {
    expect(mlflow.validate!(ctx())).toEqual([]);
    expect(mlflow.validate!(ctx({ host: 'vm4' }))).toEqual(['host vm4 runs mlflow but is not in group mlflow']);
    expect(mlflow.validate!(ctx({ vars: { mlflow_version: '2.18.0' } }))[0]).toMatch(/^mlflow_version 2\.18\.0: no lock .*mlflow-2\.18\.0-py3\.11\.txt/);
    expect(mlflow.validate!(ctx({ vars: { mlflow_s3_access_key_id: 'AK' } }))).toEqual(['mlflow_s3_access_key_id and mlflow_s3_secret_access_key go together: give both or neither']);
    expect(mlflow.validate!(ctx({ vars: { mlflow_backend_store_password: '', mlflow_database_group: 'pg' } }))[0]).toMatch(/names no group of the inventory/);
    expect(mlflow.validate!(ctx({ vars: { mlflow_backend_store_password: '' } }))).toEqual([]);
  });

  it("declares 5001, the seed's 4 GB and 2 CPUs, the local artifact dir", () => {
    expect(mlflow.declares!(ctx())).toEqual({
      ports: [{ port: 5001, variable: 'mlflow_port', description: 'MLflow tracking server' }],
      memoryMb: 4096,
      cpus: 2,
      serves: ['mlflow'],
      dataDirs: ['/var/lib/mlflow/artifacts'],
    });
    expect(mlflow.declares!(ctx({ vars: { mlflow_artifacts_destination: 's3://b/p' } })).dataDirs).toEqual([]);
  });

  it('reads the generated owner password from the database cluster when none is given', () => {
    expect(mlflow.clusterValues!(ctx({ vars: { mlflow_backend_store_password: '' } })).map((c) => [c.name, c.group, c.secret])).toEqual([['db_password_mlflow', 'patroni', true]]);
    expect(mlflow.clusterValues!(ctx())).toEqual([]);
    const c = roleContext(mlflow, { peers: MINIMAL, host: 'vm5', cluster: { db_password_mlflow: 'generated-pw' } });
    expect(written(named(mlflow.operations(c), 'file', SECRETS_FILE))).toContain('PGPASSWORD="generated-pw"\n');
  });
});

describe('mlflow: operations', () => {
  it('in install order: packages, user, venv from the lock, helper, dirs, env files, schema, unit, service, health', () => {
    const list = mlflow.operations(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages python3, python3-venv, curl',
      'group mlflow',
      'user mlflow',
      'dir /opt/mlflow',
      'file /opt/mlflow/mlflow-2.19.0-py3.11.txt',
      'python-venv /opt/mlflow/venv',
      'file /opt/mlflow/mlflow-schema.py',
      'dir /var/lib/mlflow',
      'dir /var/lib/mlflow/artifacts',
      'dir /etc/mlflow',
      'file /etc/mlflow/mlflow.env',
      'file /etc/mlflow/secrets.env',
      "command mlflow: backend store schema at MLflow 2.19.0's head (postgresql://mlflow@pg-vip:5432/mlflow)",
      'unit /etc/systemd/system/mlflow.service',
      'service mlflow.service',
      'health MLflow on vm5 answers /health and /version 2.19.0 on 5001',
    ]);
    const venv = named(list, 'python-venv')!;
    expect(venv.notify).toEqual(['mlflow']);
    expect((venv.plan(null) as Extract<Plan, { status: 'change' }>).reason).toBe('no venv: create it and install 70 pins');
    expect(named(list, 'file', SECRETS_FILE)!.secret).toBe(true);
    // the schema's guard: ok when the helper says the database is at head
    const schema = list.find((o) => o.kind === 'command')!;
    expect(schema.plan({ unless: 0 }).status).toBe('ok');
    expect(schema.plan({ unless: 1 }).status).toBe('change');
  });

  it("RHEL: the distribution's python3.11 installed and creating the venv", () => {
    const list = mlflow.operations(roleContext(mlflow, { peers: MINIMAL, host: 'vm5', facts: { osFamily: 'redhat' }, vars: { mlflow_backend_store_password: 'pw' } }));
    expect(list[0].name).toBe('python3.11, curl');
    expect((named(list, 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>).script).toContain('python3.11 -m venv');
    expect((named(mlflow.operations(ctx()), 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>).script).toMatch(/(^|[^.\w])python3 -m venv/);
  });

  it('only the first host of the group migrates', () => {
    const peers = [...MINIMAL, peer('vm6', '10.20.0.23', ['mlflow'])];
    expect(mlflow.operations(ctx({ peers, host: 'vm6' })).some((o) => o.kind === 'command')).toBe(false);
    expect(mlflow.operations(ctx({ peers, host: 'vm5' })).some((o) => o.kind === 'command')).toBe(true);
  });
});
