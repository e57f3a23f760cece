/**
 * The superset role offline, against datalyptica-minimal-5vm.md (VM4: Superset 4.1.1 on 8088; Redis on VM3 with
 * Sentinels on VM1-3; PostgreSQL under Patroni): defaults, the lock, superset_config.py (run by Python with the
 * environment the service gets: the database and Redis URLs it makes), the env files read back by sh, the unit, the
 * state helper and the guarded commands, SECRET_KEY as a cluster value, validate and the operations in install order.
 * The real service: test/integration/role-superset.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import superset, { redisTarget } from '../../roles/superset/index.js';
import {
  CONFIG_FILE,
  SECRETS_FILE,
  STATE_SCRIPT,
  createAdmin,
  envFile,
  generateSecretKey,
  lockOnController,
  readSecretKey,
  secretsEnv,
  stateCheck,
  supersetConfig,
  unit,
  type SupersetVars,
} from '../../roles/superset/render.js';
import { parseLock } from '../../src/ops/python-lock.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(superset) as unknown as SupersetVars;
const KEY = 'k'.repeat(40);
const sv = (over: Partial<SupersetVars> = {}): SupersetVars => ({ ...DEFAULTS, superset_secret_key: KEY, superset_admin_password: 'adm', ...over });

// datalyptica-minimal-5vm.md: Redis master VM3, replica VM2, Sentinels VM1-3; Superset on VM4
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['control_plane', 'patroni', 'redis_sentinel']),
  peer('vm2', '10.20.0.12', ['control_plane', 'patroni', 'redis', 'redis_sentinel']),
  peer('vm3', '10.20.0.13', ['control_plane', 'patroni', 'redis', 'redis_sentinel']),
  peer('vm4', '10.20.0.21', ['data_plane', 'superset']),
];
const ctx = (o: { host?: string; vars?: Record<string, unknown>; peers?: PeerHost[]; cluster?: Record<string, string> } = {}): RoleContext<any> =>
  roleContext(superset, { peers: o.peers ?? MINIMAL, host: o.host ?? 'vm4', vars: { superset_admin_password: 'adm', ...o.vars }, cluster: { superset_secret_key: KEY, db_password_superset: 'dbpw', redis_password: 'redispw1', ...o.cluster } });

/** superset_config.py run by Python with this environment: what Superset would read from it */
function evaluate(config: string, env: Record<string, string>): Record<string, unknown> {
  const f = join(tmp(), 'superset_config.py');
  writeFileSync(f, config);
  // the config imports sqlalchemy's make_url: a stand-in module of the same behaviour for the parts used
  const stub = join(tmp(), 'sqlalchemy', 'engine');
  spawnSync('mkdir', ['-p', stub]);
  writeFileSync(join(stub, '..', '__init__.py'), '');
  writeFileSync(join(stub, '__init__.py'), '');
  writeFileSync(
    join(stub, 'url.py'),
    [
      'from urllib.parse import quote',
      'class _U:',
      '    def __init__(self, s, pw=None): self.s, self.pw = s, pw',
      '    def set(self, password): return _U(self.s, password)',
      '    def render_as_string(self, hide_password=True):',
      '        if self.pw is None: return self.s',
      '        scheme, rest = self.s.split("://", 1); user, host = rest.split("@", 1)',
      '        return f"{scheme}://{user}:{quote(self.pw, safe=\'\')}@{host}"',
      'def make_url(s): return _U(s)',
    ].join('\n'),
  );
  const r = spawnSync('python3', ['-c', `import json, runpy; c = runpy.run_path(${JSON.stringify(f)}); print(json.dumps({k: v for k, v in c.items() if k.isupper() and not k.startswith("_")}))`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: join(stub, '..', '..'), ...env },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe('superset: defaults from the seed', () => {
  it("VM4's 4.1.1 on 8088, the metadata DB on the Patroni cluster, Redis through the Sentinels; secrets marked", () => {
    expect(DEFAULTS).toMatchObject({
      superset_version: '4.1.1',
      superset_port: 8088,
      superset_database_uri: 'postgresql+psycopg2://superset@pg-vip:5432/superset',
      superset_database_group: 'patroni',
      superset_redis_sentinel_group: 'redis_sentinel',
      superset_redis_sentinel_master: 'datalyptica',
    });
    for (const k of ['superset_database_password', 'superset_secret_key', 'superset_admin_password', 'superset_redis_password'] as const) expect(superset.vars[k].secret).toBe(true);
  });

  it("the repository's lock pins Superset 4.1.1 with psycopg2-binary, redis and gunicorn, each with a sha256", () => {
    const pins = new Map(parseLock(readFileSync(lockOnController('4.1.1'), 'utf8')).map((p) => [p.name, p]));
    expect(pins.get('apache-superset')?.version).toBe('4.1.1');
    for (const n of ['psycopg2-binary', 'redis', 'gunicorn', 'flask-appbuilder', 'marshmallow', 'sqlalchemy']) expect(pins.has(n)).toBe(true);
    expect(pins.get('marshmallow')?.version).toMatch(/^3\./);
    expect(pins.get('sqlalchemy')?.version).toMatch(/^1\.4\./);
    expect(pins.size).toBe(146);
  });
});

describe('superset: superset_config.py', () => {
  it('holds no secret; with the service environment it makes the database URL (password quoted) and the Sentinel caches', () => {
    const text = supersetConfig(sv(), { kind: 'sentinel', sentinels: [['10.20.0.11', 26379], ['10.20.0.12', 26379]], master: 'datalyptica' });
    expect(text).not.toContain(KEY);
    const c = evaluate(text, { SUPERSET_SECRET_KEY: KEY, SUPERSET_DATABASE_PASSWORD: 'p@ss/w:rd', SUPERSET_REDIS_PASSWORD: 'r3dis' });
    expect(c.SECRET_KEY).toBe(KEY);
    expect(c.SQLALCHEMY_DATABASE_URI).toBe('postgresql+psycopg2://superset:p%40ss%2Fw%3Ard@pg-vip:5432/superset');
    expect(c.CACHE_CONFIG).toEqual({
      CACHE_TYPE: 'RedisSentinelCache',
      CACHE_REDIS_SENTINELS: [['10.20.0.11', 26379], ['10.20.0.12', 26379]],
      CACHE_REDIS_SENTINEL_MASTER: 'datalyptica',
      CACHE_REDIS_DB: 1,
      CACHE_REDIS_PASSWORD: 'r3dis',
      CACHE_DEFAULT_TIMEOUT: 300,
      CACHE_KEY_PREFIX: 'superset_',
    });
    for (const [k, prefix] of [['DATA_CACHE_CONFIG', 'superset_data_'], ['FILTER_STATE_CACHE_CONFIG', 'superset_filter_'], ['EXPLORE_FORM_DATA_CACHE_CONFIG', 'superset_explore_']]) {
      expect((c[k] as Record<string, unknown>).CACHE_KEY_PREFIX).toBe(prefix);
    }
    expect(c.RATELIMIT_STORAGE_URI).toBeUndefined();
  });

  it('one Redis server: RedisCache and the rate limits on it; extra config appended', () => {
    const text = supersetConfig(sv({ superset_extra_config: 'FEATURE_FLAGS = {"ALERT_REPORTS": True}\n' }), { kind: 'server', host: '10.20.0.13', port: 6379 });
    const c = evaluate(text, { SUPERSET_SECRET_KEY: KEY, SUPERSET_REDIS_PASSWORD: 'a/b@c' });
    expect((c.CACHE_CONFIG as Record<string, unknown>).CACHE_TYPE).toBe('RedisCache');
    expect(c.RATELIMIT_STORAGE_URI).toBe('redis://:a%2Fb%40c@10.20.0.13:6379/1');
    expect(c.SQLALCHEMY_DATABASE_URI).toBe('postgresql+psycopg2://superset@pg-vip:5432/superset');
    expect(c.FEATURE_FLAGS).toEqual({ ALERT_REPORTS: true });
  });
});

describe('superset: env files, unit, state helper and commands', () => {
  it('secrets.env holds the key and the passwords, read back by sh; the cluster value reads the key back', () => {
    const odd = `p'w "x" $HOME \`id\` \\ ;&|`;
    const text = secretsEnv(sv({ superset_database_password: odd, superset_redis_password: 'r3dis' }));
    const dir = tmp();
    writeFileSync(join(dir, 'a.env'), envFile(sv()));
    writeFileSync(join(dir, 'secrets.env'), text);
    const r = spawnSync('sh', ['-c', `set -a; . ./a.env; . ./secrets.env; printf '%s|' "$SUPERSET_SECRET_KEY" "$SUPERSET_DATABASE_PASSWORD" "$SUPERSET_REDIS_PASSWORD" "$SUPERSET_CONFIG_PATH" "$FLASK_APP"`], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout).toBe(`${KEY}|${odd}|r3dis|${CONFIG_FILE}|superset|`);
    const read = spawnSync('sh', ['-c', readSecretKey.replace(SECRETS_FILE, join(dir, 'secrets.env'))], { encoding: 'utf8' });
    expect(read.stdout).toBe(`${KEY}\n`);
    expect(() => secretsEnv(sv({ superset_secret_key: 'short' }))).toThrow(/32 or more/);
    expect(generateSecretKey()).toMatch(/^[A-Za-z0-9+/]{56}$/);
  });

  it('the unit runs gunicorn (gthread) on the app factory with both env files', () => {
    const text = unit(sv());
    expect(text).toContain('EnvironmentFile=/etc/superset/superset.env\nEnvironmentFile=/etc/superset/secrets.env\n');
    expect(text).toContain(
      'ExecStart=/opt/superset/venv/bin/gunicorn --bind 0.0.0.0:8088 --workers 4 --worker-class gthread --threads 4 --timeout 120 --limit-request-line 0 --limit-request-field_size 0 "superset.app:create_app()"\n',
    );
  });

  it('the helper is valid Python; the guards and commands parse as sh; the admin password goes on stdin only', () => {
    expect(spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: STATE_SCRIPT }).status).toBe(0);
    for (const a of ['schema', 'init', 'user'] as const) expect(spawnSync('sh', ['-n', '-c', stateCheck(sv(), a)]).status).toBe(0);
    expect(stateCheck(sv(), 'init')).toMatch(/ sh init postgresql\+psycopg2:\/\/superset@pg-vip:5432\/superset \/var\/lib\/superset\/\.orch-superset-init 'superset 4\.1\.1'$/);
    const pw = `a'b "c" $d \`e\``;
    const cmd = createAdmin(sv({ superset_admin_password: pw }));
    // what the prompt reads: the password twice (the command with runuser and superset replaced by cat)
    const typed = spawnSync('sh', ['-c', cmd.replace(/\| runuser .*$/, '| cat')], { encoding: 'utf8' });
    expect(typed.stdout).toBe(`${pw}\n${pw}\n`);
    expect(cmd.slice(cmd.indexOf('| runuser'))).not.toContain("a'");
    expect(() => createAdmin(sv({ superset_admin_password: 'a\nb' }))).toThrow(/newline/);
  });
});

describe('superset: cluster values, Redis, validate', () => {
  it('SECRET_KEY generated once on the superset group, read from secrets.env; the DB and Redis passwords from their clusters', () => {
    const specs = superset.clusterValues!(ctx());
    expect(specs.map((s) => [s.name, s.group, s.secret])).toEqual([
      ['superset_secret_key', 'superset', true],
      ['db_password_superset', 'patroni', true],
      ['superset_admin_password', 'superset', true],
      ['redis_password', 'redis_sentinel', true],
    ]);
    expect(specs.find((s) => s.name === 'superset_admin_password')!.override).toBe('superset_admin_password');
    expect(specs[0].read).toBe(readSecretKey);
    expect(specs[0].pattern!.test(specs[0].generate!())).toBe(true);
    expect(superset.clusterValues!(ctx({ vars: { superset_database_password: 'x', superset_redis_password: 'y' } })).map((s) => s.name)).toEqual(['superset_secret_key', 'superset_admin_password']);
    const text = written(named(superset.operations(ctx()), 'file', SECRETS_FILE));
    expect(text).toBe(`# Managed by orch (role superset): secrets of superset.service (root:superset 0640)\nSUPERSET_SECRET_KEY="${KEY}"\nSUPERSET_DATABASE_PASSWORD="dbpw"\nSUPERSET_REDIS_PASSWORD="redispw1"\n`);
  });

  it('Redis: the Sentinels when the inventory has them, else the named server or the redis group\'s first host', () => {
    const vars = DEFAULTS as unknown as Parameters<typeof redisTarget>[0];
    const group = (peers: PeerHost[]) => (g: string) => peers.filter((p) => p.groups.includes(g));
    expect(redisTarget(vars, group(MINIMAL))).toEqual({ kind: 'sentinel', sentinels: [['10.20.0.11', 26379], ['10.20.0.12', 26379], ['10.20.0.13', 26379]], master: 'datalyptica' });
    const noSentinels = MINIMAL.map((p) => ({ ...p, groups: p.groups.filter((g) => g !== 'redis_sentinel') }));
    expect(redisTarget(vars, group(noSentinels))).toEqual({ kind: 'server', host: '10.20.0.12', port: 6379 });
    expect(redisTarget({ ...vars, superset_redis_host: 'vm3' }, group(noSentinels))).toEqual({ kind: 'server', host: '10.20.0.13', port: 6379 });
    expect(redisTarget(vars, group([MINIMAL[3]]))).toBeUndefined();
  });

  it('validate: the host in its group, a lock for the release, a Redis, a database password source', () => {
    expect(superset.validate!(ctx())).toEqual([]);
    expect(superset.validate!(ctx({ host: 'vm3' }))).toEqual(['host vm3 runs superset but is not in group superset']);
    expect(superset.validate!(ctx({ vars: { superset_version: '4.0.0' } }))[0]).toMatch(/^superset_version 4\.0\.0: no lock .*superset-4\.0\.0-py3\.11\.txt/);
    expect(superset.validate!(ctx({ peers: [MINIMAL[0], MINIMAL[3]].map((p) => ({ ...p, groups: p.groups.filter((g) => !g.startsWith('redis')) })) }))).toEqual([
      'superset: no Redis: superset_redis_sentinel_group "redis_sentinel" and superset_redis_group "redis" have no hosts and superset_redis_host is empty',
    ]);
    expect(superset.validate!(ctx({ vars: { superset_database_group: 'pg' } }))[0]).toMatch(/superset_database_password is empty/);
  });
});

describe('superset: operations', () => {
  it('in install order, db upgrade / init / admin guarded, on the first host only', () => {
    const list = superset.operations(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages python3, python3-venv, curl',
      'group superset',
      'user superset',
      'dir /opt/superset',
      'file /opt/superset/superset-4.1.1-py3.11.txt',
      'python-venv /opt/superset/venv',
      'file /opt/superset/superset-state.py',
      'dir /var/lib/superset',
      'dir /etc/superset',
      'file /etc/superset/superset_config.py',
      'file /etc/superset/superset.env',
      'file /etc/superset/secrets.env',
      "command superset: metadata schema at Superset 4.1.1's head (superset db upgrade)",
      'command superset: roles and permissions of Superset 4.1.1 (superset init)',
      'command superset: admin user admin',
      'unit /etc/systemd/system/superset.service',
      'service superset.service',
      'health Superset on vm4 answers /health on 8088',
    ]);
    for (const c of list.filter((o) => o.kind === 'command')) {
      expect(c.plan({ unless: 0 }).status).toBe('ok');
      expect(c.plan({ unless: 1 }).status).toBe('change');
    }
    const rhel = superset.operations(roleContext(superset, { peers: MINIMAL, host: 'vm4', facts: { osFamily: 'redhat' }, vars: { superset_admin_password: 'adm' }, cluster: { superset_secret_key: KEY, db_password_superset: 'x', redis_password: 'y' } }));
    expect(rhel[0].name).toBe('python3.11, curl');
    expect((named(rhel, 'python-venv')!.plan(null) as { script: string }).script).toContain('python3.11 -m venv');
    const peers = [...MINIMAL, peer('vm5', '10.20.0.22', ['superset'])];
    expect(superset.operations(ctx({ peers, host: 'vm5' })).some((o) => o.kind === 'command')).toBe(false);
  });
});
