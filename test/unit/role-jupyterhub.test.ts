/**
 * The jupyterhub role offline, against datalyptica-minimal-5vm.md (VM4: JupyterHub 5.2.1 on 8000, "Multi-user
 * Jupyter", 8 GB / 2 CPUs, homes under /home/jupyter): defaults, the Python and npm locks, jupyterhub_config.py (run
 * by Python with a stub get_config() that records what it sets, and the service's environment), secrets.env read
 * back by sh, the unit, the health check, validate, declarations, cluster values and the operations in install
 * order. The real hub: test/integration/role-jupyterhub.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import jupyterhub from '../../roles/jupyterhub/index.js';
import {
  CONFIG_FILE,
  SECRETS_FILE,
  config,
  dbUser,
  generateCookieSecret,
  generateProxyToken,
  healthCheck,
  keycloakEndpoints,
  lockOnController,
  proxyLockDir,
  secretsEnv,
  unit,
  type JupyterhubVars,
} from '../../roles/jupyterhub/render.js';
import { checkNpmLock } from '../../src/ops/npm-bundle.js';
import { parseLock } from '../../src/ops/python-lock.js';
import type { Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, sourced, written } from './role-harness.js';

const DEFAULTS = defaultsOf(jupyterhub) as unknown as JupyterhubVars;
const COOKIE = 'c'.repeat(64);
const TOKEN = '0a1b'.repeat(16);
const jv = (over: Partial<JupyterhubVars> = {}): JupyterhubVars => ({ ...DEFAULTS, jupyterhub_allowed_users: ['alice'], cookie_secret: COOKIE, proxy_auth_token: TOKEN, ...over });

// datalyptica-minimal-5vm.md: VM4 (10.20.0.21) runs JupyterHub; the Patroni cluster on VM1-3
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['control_plane', 'patroni']),
  peer('vm3', '10.20.0.13', ['control_plane', 'patroni']),
  peer('vm4', '10.20.0.21', ['data_plane', 'jupyterhub']),
];
const ctx = (o: { host?: string; vars?: Record<string, unknown>; peers?: PeerHost[]; cluster?: Record<string, string>; facts?: { osFamily: 'debian' | 'redhat' } } = {}): RoleContext<any> =>
  roleContext(jupyterhub, {
    peers: o.peers ?? MINIMAL,
    host: o.host ?? 'vm4',
    facts: o.facts,
    vars: { jupyterhub_allowed_users: ['alice'], ...o.vars },
    cluster: { jupyterhub_cookie_secret: COOKIE, jupyterhub_proxy_auth_token: TOKEN, ...o.cluster },
  });

const KEYCLOAK: Partial<JupyterhubVars> = {
  jupyterhub_authenticator: 'keycloak',
  jupyterhub_keycloak_url: 'http://10.20.0.100:8080/',
  jupyterhub_oauth_client_secret: 'cl$ient"secret',
  jupyterhub_oauth_callback_url: 'http://jupyter.datalyptica.local:8000/hub/oauth_callback',
};

/**
 * jupyterhub_config.py run by Python with a stub get_config(): every `c.Section.name = value` recorded, printed as
 * JSON (a set as {"set": [sorted]}, a class as its name, bases and what its check_allowed_groups answers). A stand-in
 * oauthenticator.generic module supplies LocalGenericOAuthenticator.
 */
function evaluate(text: string, env: Record<string, string> = { CONFIGPROXY_AUTH_TOKEN: TOKEN }): { code: number; stderr: string; c: Record<string, Record<string, unknown>> } {
  const dir = tmp('orch-jupyterhub-');
  const file = join(dir, 'jupyterhub_config.py');
  writeFileSync(file, text);
  mkdirSync(join(dir, 'lib', 'oauthenticator'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'oauthenticator', '__init__.py'), '');
  writeFileSync(join(dir, 'lib', 'oauthenticator', 'generic.py'), 'class LocalGenericOAuthenticator:\n    def check_allowed_groups(self, username, authentication=None):\n        raise KeyError(username)\n');
  const runner = [
    'import json, runpy, sys',
    'class Section:',
    '    def __init__(self):',
    '        object.__setattr__(self, "values", {})',
    '    def __setattr__(self, name, value):',
    '        self.values[name] = value',
    'class Config:',
    '    def __init__(self):',
    '        object.__setattr__(self, "sections", {})',
    '    def __getattr__(self, name):',
    '        return self.sections.setdefault(name, Section())',
    'cfg = Config()',
    'def encode(x):',
    '    if isinstance(x, set):',
    '        return {"set": sorted(x)}',
    '    if isinstance(x, type):',
    '        return {"class": x.__name__, "bases": [f"{b.__module__}.{b.__name__}" for b in x.__bases__], "check_allowed_groups": x().check_allowed_groups("alice")}',
    '    raise TypeError(repr(x))',
    'runpy.run_path(sys.argv[1], init_globals={"get_config": lambda: cfg})',
    'print(json.dumps({k: s.values for k, s in cfg.sections.items()}, default=encode))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', runner, file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: join(dir, 'lib'), ...env } });
  return { code: r.status ?? -1, stderr: r.stderr, c: r.status === 0 ? JSON.parse(r.stdout) : {} };
}

describe('jupyterhub: defaults from the seed', () => {
  it("VM4's 5.2.1 on 8000, homes under /home/jupyter, PAM login, secrets marked", () => {
    expect(DEFAULTS).toMatchObject({
      jupyterhub_version: '5.2.1',
      jupyterhub_proxy_version: '4.6.3',
      jupyterhub_group: 'jupyterhub',
      jupyterhub_port: 8000,
      jupyterhub_hub_port: 8081,
      jupyterhub_proxy_api_port: 8001,
      jupyterhub_home_root: '/home/jupyter',
      jupyterhub_install_root: '/opt/jupyterhub',
      jupyterhub_data_dir: '/var/lib/jupyterhub',
      jupyterhub_authenticator: 'pam',
      jupyterhub_db_url: '',
      jupyterhub_database_group: 'patroni',
      jupyterhub_cull_idle_timeout: 3600,
    });
    for (const k of ['jupyterhub_oauth_client_secret', 'jupyterhub_db_password', 'jupyterhub_cookie_secret'] as const) expect(jupyterhub.vars[k].secret).toBe(true);
    for (const k of ['jupyterhub_keycloak_url', 'jupyterhub_oauth_client_id', 'jupyterhub_port'] as const) expect(jupyterhub.vars[k].secret).toBeFalsy();
  });

  it("the repository's lock pins JupyterHub 5.2.1, JupyterLab, oauthenticator, the idle culler and psycopg2-binary, each with sha256s", () => {
    const pins = parseLock(readFileSync(lockOnController('5.2.1'), 'utf8'));
    const byName = new Map(pins.map((p) => [p.name, p]));
    expect(byName.get('jupyterhub')?.version).toBe('5.2.1');
    expect(byName.get('jupyterlab')?.version).toMatch(/^4\./);
    expect(byName.get('oauthenticator')?.version).toMatch(/^17\./);
    for (const n of ['jupyterhub-idle-culler', 'psycopg2-binary', 'sqlalchemy', 'alembic', 'tornado', 'pamela']) expect(byName.has(n)).toBe(true);
    expect(pins.every((p) => p.hashes.length > 0 && p.hashes.every((h) => /^[0-9a-f]{64}$/.test(h)))).toBe(true);
    expect(new Set(pins.map((p) => p.name)).size).toBe(pins.length);
  });

  it("the npm lock is complete (checkNpmLock) and pins configurable-http-proxy 4.6.3", () => {
    const dir = proxyLockDir('4.6.3');
    const text = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    expect(() => checkNpmLock(text, 'lock')).not.toThrow();
    const lock = JSON.parse(text) as { packages: Record<string, { version?: string; integrity?: string }> };
    expect(lock.packages['node_modules/configurable-http-proxy'].version).toBe('4.6.3');
    expect(lock.packages['node_modules/configurable-http-proxy'].integrity).toMatch(/^sha512-/);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toEqual({ 'configurable-http-proxy': '4.6.3' });
  });
});

describe('jupyterhub: jupyterhub_config.py', () => {
  it('PAM: valid Python that sets the proxy, the state, who may log in, the spawner and the idle culler; no secret in it', () => {
    const text = config(jv({ jupyterhub_admin_users: ['admin'], jupyterhub_allowed_users: ['bob', 'alice'] }));
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(COOKIE);
    const { code, stderr, c } = evaluate(text);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(c).toEqual({
      JupyterHub: {
        bind_url: 'http://0.0.0.0:8000/',
        hub_bind_url: 'http://127.0.0.1:8081',
        cookie_secret_file: '/var/lib/jupyterhub/jupyterhub_cookie_secret',
        db_url: 'sqlite:////var/lib/jupyterhub/jupyterhub.sqlite',
        upgrade_db: true,
        pid_file: '/var/lib/jupyterhub/jupyterhub.pid',
        authenticator_class: 'pam',
        load_roles: [{ name: 'idle-culler', scopes: ['list:users', 'read:users:activity', 'read:servers', 'delete:servers'], services: ['idle-culler'] }],
        services: [{ name: 'idle-culler', command: ['/opt/jupyterhub/venv/bin/python', '-m', 'jupyterhub_idle_culler', '--timeout=3600'] }],
      },
      ConfigurableHTTPProxy: {
        api_url: 'http://127.0.0.1:8001',
        command: ['/usr/bin/node', '/opt/jupyterhub/configurable-http-proxy/node_modules/configurable-http-proxy/bin/configurable-http-proxy'],
        auth_token: TOKEN,
      },
      Authenticator: { admin_users: { set: ['admin'] }, allowed_users: { set: ['alice', 'bob'] }, allow_all: false },
      Spawner: { cmd: ['/opt/jupyterhub/venv/bin/jupyterhub-singleuser'], default_url: '/lab', start_timeout: 120, http_timeout: 120 },
    });
  });

  it('PAM: UNIX groups, allow_all, a base URL, another bind and ports, the spawner environment, no culler, PostgreSQL', () => {
    const v = jv({
      jupyterhub_allowed_users: [],
      jupyterhub_allowed_groups: ['datasci', 'analysts'],
      jupyterhub_allow_all: true,
      jupyterhub_base_url: '/jupyter/',
      jupyterhub_bind: '::',
      jupyterhub_port: 8443,
      jupyterhub_hub_port: 18081,
      jupyterhub_proxy_api_port: 18001,
      jupyterhub_spawner_environment: { SPARK_MASTER: 'spark://10.20.0.11:7077', MLFLOW_TRACKING_URI: 'http://10.20.0.22:5001' },
      jupyterhub_cull_idle_timeout: 0,
      jupyterhub_db_url: 'postgresql://jupyterhub@pg-vip:5432/jupyterhub',
    });
    const { code, stderr, c } = evaluate(config(v));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(c.JupyterHub.bind_url).toBe('http://[::]:8443/jupyter/');
    expect(c.JupyterHub.hub_bind_url).toBe('http://127.0.0.1:18081');
    expect(c.ConfigurableHTTPProxy.api_url).toBe('http://127.0.0.1:18001');
    expect(c.JupyterHub.db_url).toBe('postgresql://jupyterhub@pg-vip:5432/jupyterhub');
    expect(c.JupyterHub.services).toBeUndefined();
    expect(c.JupyterHub.load_roles).toBeUndefined();
    expect(c.LocalAuthenticator).toEqual({ allowed_groups: { set: ['analysts', 'datasci'] } });
    expect(c.Authenticator).toEqual({ admin_users: { set: [] }, allowed_users: { set: [] }, allow_all: true });
    expect(c.Spawner.environment).toEqual({ MLFLOW_TRACKING_URI: 'http://10.20.0.22:5001', SPARK_MASTER: 'spark://10.20.0.11:7077' });
  });

  it('the proxy token is read from the environment: without it the config fails', () => {
    const r = evaluate(config(jv()), {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/KeyError: 'CONFIGPROXY_AUTH_TOKEN'/);
  });

  it("Keycloak: OpenID Connect on the realm's endpoints, the client secret from the environment, local users created under the home root", () => {
    const v = jv({ ...KEYCLOAK, jupyterhub_admin_users: ['admin'] });
    const text = config(v);
    expect(text).not.toContain('cl$ient');
    expect(text).not.toContain(TOKEN);
    const { code, stderr, c } = evaluate(text, { CONFIGPROXY_AUTH_TOKEN: TOKEN, OAUTH_CLIENT_SECRET: 'cl$ient"secret' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // a subclass whose allowed_groups are Keycloak's, not the host's UNIX groups (the stand-in base would raise)
    expect(c.JupyterHub.authenticator_class).toEqual({ class: 'KeycloakAuthenticator', bases: ['oauthenticator.generic.LocalGenericOAuthenticator'], check_allowed_groups: false });
    expect(c.GenericOAuthenticator).toEqual({
      login_service: 'Keycloak',
      client_id: 'jupyterhub',
      client_secret: 'cl$ient"secret',
      oauth_callback_url: 'http://jupyter.datalyptica.local:8000/hub/oauth_callback',
      authorize_url: 'http://10.20.0.100:8080/realms/datalyptica/protocol/openid-connect/auth',
      token_url: 'http://10.20.0.100:8080/realms/datalyptica/protocol/openid-connect/token',
      userdata_url: 'http://10.20.0.100:8080/realms/datalyptica/protocol/openid-connect/userinfo',
      scope: ['openid', 'profile', 'email'],
      username_claim: 'preferred_username',
    });
    expect(c.LocalGenericOAuthenticator).toEqual({ create_system_users: true, add_user_cmd: ['useradd', '--create-home', '--base-dir', '/home/jupyter', '--shell', '/bin/bash'] });
    expect(c.Authenticator).toEqual({ admin_users: { set: ['admin'] }, allowed_users: { set: ['alice'] }, allow_all: false });
    expect(c.LocalAuthenticator).toBeUndefined();
    expect(evaluate(text).stderr).toMatch(/KeyError: 'OAUTH_CLIENT_SECRET'/);
  });

  it("Keycloak groups: allowed and admin groups from the token's groups claim, with group management on", () => {
    const v = jv({ ...KEYCLOAK, jupyterhub_allowed_users: [], jupyterhub_allowed_groups: ['datasci'], jupyterhub_admin_groups: ['platform-admins', 'hub-admins'], jupyterhub_keycloak_realm: 'other' });
    const { code, stderr, c } = evaluate(config(v), { CONFIGPROXY_AUTH_TOKEN: TOKEN, OAUTH_CLIENT_SECRET: 'x' });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(c.GenericOAuthenticator).toMatchObject({
      manage_groups: true,
      auth_state_groups_key: 'oauth_user.groups',
      admin_groups: { set: ['hub-admins', 'platform-admins'] },
      allowed_groups: { set: ['datasci'] },
      token_url: 'http://10.20.0.100:8080/realms/other/protocol/openid-connect/token',
    });
    expect(c.LocalAuthenticator).toBeUndefined();
    // without groups, group management stays off (oauthenticator would log a missing claim on every login)
    expect(evaluate(config(jv(KEYCLOAK)), { CONFIGPROXY_AUTH_TOKEN: TOKEN, OAUTH_CLIENT_SECRET: 'x' }).c.GenericOAuthenticator.manage_groups).toBeUndefined();
    expect(keycloakEndpoints('https://sso.example.com/auth///', 'my realm')).toEqual({
      issuer: 'https://sso.example.com/auth/realms/my%20realm',
      authorize: 'https://sso.example.com/auth/realms/my%20realm/protocol/openid-connect/auth',
      token: 'https://sso.example.com/auth/realms/my%20realm/protocol/openid-connect/token',
      userdata: 'https://sso.example.com/auth/realms/my%20realm/protocol/openid-connect/userinfo',
    });
  });

  it("the callback URL defaults to the host's address, port and base URL", () => {
    const cfgOf = (c: RoleContext<any>) => written(named(jupyterhub.operations(c), 'file', CONFIG_FILE));
    const kc = { jupyterhub_authenticator: 'keycloak', jupyterhub_keycloak_url: 'http://10.20.0.100:8080', jupyterhub_oauth_client_secret: 's' };
    expect(cfgOf(ctx({ vars: kc }))).toContain('c.GenericOAuthenticator.oauth_callback_url = "http://10.20.0.21:8000/hub/oauth_callback"\n');
    expect(cfgOf(ctx({ vars: { ...kc, jupyterhub_base_url: '/jh/', jupyterhub_port: 9000 } }))).toContain('"http://10.20.0.21:9000/jh/hub/oauth_callback"');
    const v6 = [peer('h6', 'fd00::21', ['jupyterhub'])];
    expect(cfgOf(ctx({ peers: v6, host: 'h6', vars: kc }))).toContain('"http://[fd00::21]:8000/hub/oauth_callback"');
    expect(cfgOf(ctx({ vars: { ...kc, jupyterhub_oauth_callback_url: 'https://jupyter.datalyptica.local/hub/oauth_callback' } }))).toContain('"https://jupyter.datalyptica.local/hub/oauth_callback"');
  });
});

describe('jupyterhub: secrets.env, unit, health check', () => {
  it('secrets.env: the proxy token, the client secret (keycloak) and PGPASSWORD (PostgreSQL), read back byte for byte by sh', () => {
    const odd = `p'w "x" $HOME \`id\` \\ ;&|`;
    const v = jv({ ...KEYCLOAK, jupyterhub_oauth_client_secret: odd, jupyterhub_db_url: 'postgresql://jupyterhub@pg-vip:5432/jupyterhub', jupyterhub_db_password: `${odd}2` });
    expect(sourced([secretsEnv(v)], ['CONFIGPROXY_AUTH_TOKEN', 'OAUTH_CLIENT_SECRET', 'PGPASSWORD'])).toBe(`${TOKEN}|${odd}|${odd}2|`);
    expect(secretsEnv(jv())).toBe(`# Managed by orch (role jupyterhub): secrets of jupyterhub.service (root 0600)\nCONFIGPROXY_AUTH_TOKEN="${TOKEN}"\n`);
    // SQLite: no PGPASSWORD even with a password given
    expect(secretsEnv(jv({ jupyterhub_db_password: 'pw' }))).not.toContain('PGPASSWORD');
    expect(() => secretsEnv(jv({ ...KEYCLOAK, jupyterhub_oauth_client_secret: 'a\nb' }))).toThrow(/newline/);
  });

  it('the unit runs the hub from the venv as root with the config and secrets.env', () => {
    const text = unit(jv());
    expect(text).toContain('User=root\n');
    expect(text).toContain(`EnvironmentFile=${SECRETS_FILE}\n`);
    expect(text).toContain('ExecStart=/opt/jupyterhub/venv/bin/jupyterhub --config=/etc/jupyterhub/jupyterhub_config.py\n');
    expect(text).toContain('WorkingDirectory=/var/lib/jupyterhub\n');
    expect(text).toContain('Environment=PATH=/opt/jupyterhub/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(text).toContain('Description=JupyterHub 5.2.1\n');
    expect(text).not.toContain(TOKEN);
  });

  it('the health check wants /hub/health through the proxy and the release from /hub/api', () => {
    const cmd = healthCheck('10.20.0.21', 8000, '/', '5.2.1');
    expect(cmd).toBe(`curl -fsS --max-time 5 -o /dev/null http://10.20.0.21:8000/hub/health && curl -fsS --max-time 5 http://10.20.0.21:8000/hub/api | grep -q '"version": *"5.2.1"'`);
    expect(healthCheck('fd00::21', 8443, '/jh/', '5.2.1')).toContain('http://[fd00::21]:8443/jh/hub/api');
    // the grep matches the hub's answer
    const api = spawnSync('sh', ['-c', `printf '%s' '{"version": "5.2.1"}' | grep -q '"version": *"5.2.1"'`]);
    expect(api.status).toBe(0);
    expect(spawnSync('sh', ['-n', '-c', cmd]).status).toBe(0);
  });
});

describe('jupyterhub: validate, declarations, cluster values', () => {
  it('refuses a host outside its group, nobody allowed, keycloak without URL or secret, equal ports, PostgreSQL without a password source', () => {
    expect(jupyterhub.validate!(ctx())).toEqual([]);
    expect(jupyterhub.validate!(ctx({ host: 'vm3' }))).toEqual(['host vm3 runs jupyterhub but is not in group jupyterhub']);
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_allowed_users: [] } }))).toEqual([
      'nobody may log in to JupyterHub: set jupyterhub_allowed_users, jupyterhub_allowed_groups or jupyterhub_admin_users, or jupyterhub_allow_all: true',
    ]);
    for (const vars of [{ jupyterhub_allowed_groups: ['g'] }, { jupyterhub_admin_users: ['a'] }, { jupyterhub_allow_all: true }]) {
      expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_allowed_users: [], ...vars } }))).toEqual([]);
    }
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_authenticator: 'keycloak' } }))).toEqual([
      'jupyterhub_authenticator is keycloak: set jupyterhub_keycloak_url (e.g. http://{{ keepalived_vip }}:8080)',
      "jupyterhub_authenticator is keycloak: set jupyterhub_oauth_client_secret (the client's secret, from a secrets file)",
    ]);
    const kc = { jupyterhub_authenticator: 'keycloak', jupyterhub_keycloak_url: 'http://kc:8080', jupyterhub_oauth_client_secret: 's' };
    expect(jupyterhub.validate!(ctx({ vars: kc }))).toEqual([]);
    // Keycloak: members of the admin groups may log in
    expect(jupyterhub.validate!(ctx({ vars: { ...kc, jupyterhub_allowed_users: [], jupyterhub_admin_groups: ['hub-admins'] } }))).toEqual([]);
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_admin_groups: ['g'] } }))[0]).toMatch(/^jupyterhub_admin_groups is for the keycloak authenticator/);
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_hub_port: 8000 } }))).toEqual(['jupyterhub_port 8000, jupyterhub_hub_port 8000 and jupyterhub_proxy_api_port 8001 must differ']);
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_version: '5.1.0' } }))[0]).toMatch(/^jupyterhub_version 5\.1\.0: no lock .*jupyterhub-5\.1\.0-py3\.11\.txt/);
    expect(jupyterhub.validate!(ctx({ vars: { jupyterhub_proxy_version: '4.6.2' } }))[0]).toMatch(/^jupyterhub_proxy_version 4\.6\.2: no npm lock .*configurable-http-proxy-4\.6\.2\/package-lock\.json/);
    const pg = { jupyterhub_db_url: 'postgresql://jupyterhub@pg-vip:5432/jupyterhub' };
    expect(jupyterhub.validate!(ctx({ vars: pg }))).toEqual([]);
    expect(jupyterhub.validate!(ctx({ vars: { ...pg, jupyterhub_database_group: 'pg' } }))[0]).toMatch(/^jupyterhub_db_url is PostgreSQL but jupyterhub_db_password is empty and jupyterhub_database_group "pg" names no group/);
    expect(jupyterhub.validate!(ctx({ vars: { ...pg, jupyterhub_database_group: '' } }))[0]).toMatch(/names no group of the inventory/);
    expect(jupyterhub.validate!(ctx({ vars: { ...pg, jupyterhub_database_group: '', jupyterhub_db_password: 'pw' } }))).toEqual([]);
    expect(dbUser('postgresql+psycopg2://hub_user@db:5432/jh')).toBe('hub_user');
    expect(dbUser('sqlite:////var/lib/jupyterhub/jupyterhub.sqlite')).toBeUndefined();
  });

  it("declares 8000, 8081 and 8001, the seed's 8 GB and 2 CPUs, the data and home directories", () => {
    expect(jupyterhub.declares!(ctx())).toEqual({
      ports: [
        { port: 8000, variable: 'jupyterhub_port', description: 'JupyterHub (its proxy)' },
        { port: 8081, variable: 'jupyterhub_hub_port', description: "JupyterHub's hub API (127.0.0.1)" },
        { port: 8001, variable: 'jupyterhub_proxy_api_port', description: "configurable-http-proxy's API (127.0.0.1)" },
      ],
      memoryMb: 8192,
      cpus: 2,
      serves: ['jupyterhub'],
      dataDirs: ['/var/lib/jupyterhub', '/home/jupyter'],
    });
  });

  it('the cookie secret and the proxy token are generated once on the group and read back from the hosts; the DB password only for PostgreSQL', () => {
    const specs = jupyterhub.clusterValues!(ctx());
    expect(specs.map((s) => [s.name, s.group, s.secret, s.override])).toEqual([
      ['jupyterhub_cookie_secret', 'jupyterhub', true, 'jupyterhub_cookie_secret'],
      ['jupyterhub_proxy_auth_token', 'jupyterhub', true, undefined],
    ]);
    for (const s of specs) expect(s.pattern!.test(s.generate!())).toBe(true);
    expect(generateCookieSecret()).not.toBe(generateCookieSecret());
    expect(generateProxyToken()).toMatch(/^[0-9a-f]{64}$/);
    // the read commands, run against the files the role writes: the values themselves
    const dir = tmp();
    const list = jupyterhub.operations(ctx());
    writeFileSync(join(dir, 'secrets.env'), written(named(list, 'file', SECRETS_FILE)));
    writeFileSync(join(dir, 'cookie'), written(named(list, 'file', '/var/lib/jupyterhub/jupyterhub_cookie_secret')));
    const read = (cmd: string) => spawnSync('sh', ['-c', cmd.replace(SECRETS_FILE, join(dir, 'secrets.env')).replace('/var/lib/jupyterhub/jupyterhub_cookie_secret', join(dir, 'cookie'))], { encoding: 'utf8' }).stdout.trim();
    expect(read(specs[0].read!)).toBe(COOKIE);
    expect(read(specs[1].read!)).toBe(TOKEN);
    expect(specs[1].pattern!.test(read(specs[1].read!))).toBe(true);

    const pg = { jupyterhub_db_url: 'postgresql://jupyterhub@pg-vip:5432/jupyterhub' };
    expect(jupyterhub.clusterValues!(ctx({ vars: pg })).map((s) => [s.name, s.group, s.secret])).toEqual([
      ['jupyterhub_cookie_secret', 'jupyterhub', true],
      ['jupyterhub_proxy_auth_token', 'jupyterhub', true],
      ['db_password_jupyterhub', 'patroni', true],
    ]);
    expect(jupyterhub.clusterValues!(ctx({ vars: { ...pg, jupyterhub_db_password: 'given' } })).map((s) => s.name)).not.toContain('db_password_jupyterhub');
    expect(jupyterhub.clusterValues!(ctx({ vars: { jupyterhub_db_url: 'sqlite:////srv/hub.sqlite' } })).map((s) => s.name)).not.toContain('db_password_jupyterhub');
    const text = written(named(jupyterhub.operations(ctx({ vars: pg, cluster: { db_password_jupyterhub: 'generated-pw' } })), 'file', SECRETS_FILE));
    expect(text).toContain('PGPASSWORD="generated-pw"\n');
  });
});

describe('jupyterhub: operations', () => {
  it('in install order: packages with nodejs, venv, the proxy from its npm bundle, dirs, cookie secret, config, secrets, unit, service, health', () => {
    const list = jupyterhub.operations(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages python3, python3-venv, nodejs, curl',
      'dir /opt/jupyterhub',
      'file /opt/jupyterhub/jupyterhub-5.2.1-py3.11.txt',
      'python-venv /opt/jupyterhub/venv',
      'node-package /opt/jupyterhub/configurable-http-proxy',
      'dir /var/lib/jupyterhub',
      'dir /home/jupyter',
      'file /var/lib/jupyterhub/jupyterhub_cookie_secret',
      'dir /etc/jupyterhub',
      'file /etc/jupyterhub/jupyterhub_config.py',
      'file /etc/jupyterhub/secrets.env',
      'unit /etc/systemd/system/jupyterhub.service',
      'service jupyterhub.service',
      'health JupyterHub on vm4 answers /hub/health and reports 5.2.1 on 8000',
    ]);
    const reason = (path: string) => (named(list, 'file', path)!.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>).reason;
    for (const path of ['/var/lib/jupyterhub/jupyterhub_cookie_secret', SECRETS_FILE]) {
      expect(named(list, 'file', path)!.secret).toBe(true);
      expect(reason(path)).toMatch(/owner root, group root, mode 0600\)$/);
    }
    expect(reason(CONFIG_FILE)).toMatch(/owner root, group root, mode 0644\)$/);
    expect(named(list, 'file', CONFIG_FILE)!.secret).toBeFalsy();
    expect(written(named(list, 'file', '/var/lib/jupyterhub/jupyterhub_cookie_secret'))).toBe(`${COOKIE}\n`);
    expect(named(list, 'python-venv')!.notify).toEqual(['jupyterhub']);
    expect(named(list, 'node-package')!.notify).toEqual(['jupyterhub']);
    expect((named(list, 'node-package')!.plan(null) as Extract<Plan, { status: 'change' }>).reason).toMatch(/^install configurable-http-proxy 4\.6\.3 \(lock [0-9a-f]{12}\)$/);
    for (const path of [CONFIG_FILE, SECRETS_FILE, '/var/lib/jupyterhub/jupyterhub_cookie_secret']) expect(named(list, 'file', path)!.notify).toEqual(['jupyterhub']);
    expect(named(list, 'unit')!.notify).toEqual(['jupyterhub']);
  });

  it('no secret in a non-secret file: the proxy token, cookie secret, client secret and DB password only where marked', () => {
    const secrets = { jupyterhub_authenticator: 'keycloak', jupyterhub_keycloak_url: 'http://kc:8080', jupyterhub_oauth_client_secret: 'CLIENTSECRET42', jupyterhub_db_url: 'postgresql://jupyterhub@pg-vip:5432/jupyterhub', jupyterhub_db_password: 'DBPASSWORD42' };
    const list = jupyterhub.operations(ctx({ vars: secrets }));
    const texts = list
      .filter((o) => o.kind === 'file' || o.kind === 'unit')
      .map((o) => [o, (o.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>).diff?.after ?? ''] as const);
    for (const [o, text] of texts) {
      if (o.secret) continue;
      for (const s of [TOKEN, COOKIE, 'CLIENTSECRET42', 'DBPASSWORD42']) expect(text, `${o.name} holds a secret`).not.toContain(s);
    }
    const secretsText = written(named(list, 'file', SECRETS_FILE));
    expect(secretsText).toContain('OAUTH_CLIENT_SECRET="CLIENTSECRET42"');
    expect(secretsText).toContain('PGPASSWORD="DBPASSWORD42"');
    expect(JSON.stringify(jupyterhub.rollout!(ctx({ vars: secrets })))).not.toMatch(/CLIENTSECRET42|DBPASSWORD42/);
  });

  it("RHEL: the distribution's python3.11 and nodejs, python3.11 creating the venv", () => {
    const list = jupyterhub.operations(ctx({ facts: { osFamily: 'redhat' } }));
    expect(list[0].name).toBe('python3.11, nodejs, curl');
    expect((named(list, 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>).script).toContain('python3.11 -m venv');
    expect((named(jupyterhub.operations(ctx()), 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>).script).toMatch(/(^|[^.\w])python3 -m venv/);
  });
});
