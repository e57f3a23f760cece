/**
 * The keycloak role offline, against datalyptica-minimal-5vm.md (VM1-3: Keycloak 26.0.7 on 8080, 4 GB each, a
 * cluster of 3) and datalyptica-enterprise-50vm.md (keycloak01-03 "Clustered", its `keycloak` database on the
 * PostgreSQL cluster): defaults, build options and the build guard (run against a stand-in kc.sh: a build writes the
 * marker, a changed build option fails the guard, a runtime option does not), keycloak.conf, the cache
 * configuration (well-formed, the 26.0.7 caches, TCPPING over the inventory), secrets.env read back by sh, the unit,
 * validate, declarations, rollout, operations. The real cluster: test/integration/role-keycloak.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import keycloak, { keycloakRelease } from '../../roles/keycloak/index.js';
import {
  BUILD_MARKER,
  CACHE_FILE,
  CONF_FILE,
  SECRETS_FILE,
  buildCommand,
  buildOptions,
  cacheConfig,
  initialHosts,
  keycloakConf,
  readyCheck,
  secretsEnv,
  unit,
  type KeycloakVars,
} from '../../roles/keycloak/render.js';
import type { Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, properties, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(keycloak) as unknown as KeycloakVars;
const kv = (over: Partial<KeycloakVars> = {}): KeycloakVars => ({ ...DEFAULTS, keycloak_db_password: 'dbpw', keycloak_bootstrap_admin_password: 'adminpw', ...over });

// datalyptica-minimal-5vm.md: VM1-3 (10.20.0.11-13) run Keycloak
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['control_plane', 'keycloak']),
  peer('vm2', '10.20.0.12', ['control_plane', 'keycloak']),
  peer('vm3', '10.20.0.13', ['control_plane', 'keycloak']),
  peer('vm4', '10.20.0.21', ['data_plane']),
];
const JAVA = '/usr/lib/jvm/java-17-openjdk-amd64';
const ctx = (o: { host?: string; vars?: Record<string, unknown>; hostVars?: Record<string, unknown> } = {}): RoleContext<any> => {
  const host = o.host ?? 'vm1';
  const peers = MINIMAL.map((p) => (p.name === host ? { ...p, vars: { ...p.vars, ...o.hostVars } } : p));
  return roleContext(keycloak, { peers, host, vars: { keycloak_db_password: 'dbpw', keycloak_bootstrap_admin_password: 'adminpw', ...o.vars }, exported: { java: { java_home: JAVA } } });
};

describe('keycloak: defaults from the seeds', () => {
  it("26.0.7 on 8080, management 9000, the seeds' keycloak database, 3g heap for the seed's 4 GB, behind HAProxy", () => {
    expect(DEFAULTS).toMatchObject({
      keycloak_version: '26.0.7',
      keycloak_http_port: 8080,
      keycloak_management_port: 9000,
      keycloak_cluster_port: 7800,
      keycloak_heap: '3g',
      keycloak_db_url: 'jdbc:postgresql://pg-vip:5432/keycloak',
      keycloak_proxy_headers: 'xforwarded',
    });
    expect(keycloak.vars.keycloak_db_password.secret).toBe(true);
    expect(keycloak.vars.keycloak_bootstrap_admin_password.secret).toBe(true);
    expect(keycloak.doc).toMatch(/jdbc-ping arrives with\s+26\.1/);
    expect(release('26.0.7')).toBeDefined();
  });
});
function release(version: string) {
  return keycloakRelease(version, '');
}

describe('keycloak: build options and the build guard', () => {
  it('the fixed options first, then features, relative path and extra build options sorted; runtime options refused there', () => {
    expect(buildOptions(kv())).toEqual([
      ['db', 'postgres'],
      ['health-enabled', 'true'],
      ['metrics-enabled', 'true'],
    ]);
    expect(buildOptions(kv({ keycloak_features: ['token-exchange', 'admin-fine-grained-authz'], keycloak_http_relative_path: '/auth', keycloak_build_options: { 'transaction-xa-enabled': false, 'db-driver': 'org.postgresql.Driver' } }))).toEqual([
      ['db', 'postgres'],
      ['health-enabled', 'true'],
      ['metrics-enabled', 'true'],
      ['features', 'token-exchange,admin-fine-grained-authz'],
      ['http-relative-path', '/auth'],
      ['db-driver', 'org.postgresql.Driver'],
      ['transaction-xa-enabled', 'false'],
    ]);
    expect(() => buildOptions(kv({ keycloak_build_options: { 'log-level': 'debug' } }))).toThrow(/not a build option of Keycloak 26\.0/);
    expect(() => buildOptions(kv({ keycloak_build_options: { db: 'mysql' } }))).toThrow(/set by the role/);
  });

  it('against a stand-in kc.sh: the guard fails before a build, passes after it, fails again for a changed build option; a failed build leaves no marker', () => {
    const dir = tmp('orch-kc-');
    mkdirSync(join(dir, 'bin'));
    const log = join(dir, 'calls');
    writeFileSync(join(dir, 'bin', 'kc.sh'), `#!/bin/sh\nprintf '%s|%s\\n' "$JAVA_HOME" "$*" >>'${log}'\n[ -z "$FAIL" ]\n`);
    chmodSync(join(dir, 'bin', 'kc.sh'), 0o755);
    const sh = (script: string, env: Record<string, string> = {}) => spawnSync('sh', ['-ec', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    const b = buildCommand(dir, JAVA, buildOptions(kv()));
    expect(sh(b.unless).status).not.toBe(0);
    expect(sh(b.run, { FAIL: '1' }).status).not.toBe(0);
    expect(sh(b.unless).status).not.toBe(0); // no marker after a failed build
    expect(sh(b.run).status).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n').pop()).toBe(`${JAVA}|build --db=postgres --health-enabled=true --metrics-enabled=true`);
    expect(readFileSync(join(dir, BUILD_MARKER), 'utf8')).toBe('db=postgres\nhealth-enabled=true\nmetrics-enabled=true\n');
    expect(sh(b.unless).status).toBe(0);
    // a runtime option changes keycloak.conf, not the build options: the guard still passes
    expect(sh(buildCommand(dir, JAVA, buildOptions(kv({ keycloak_log_level: 'warn', keycloak_runtime_options: { 'db-pool-max-size': 20 } }))).unless).status).toBe(0);
    // a build option: the guard fails, so kc.sh build runs
    expect(sh(buildCommand(dir, JAVA, buildOptions(kv({ keycloak_features: ['token-exchange'] }))).unless).status).not.toBe(0);
    expect(sh(buildCommand(dir, JAVA, buildOptions(kv({ keycloak_metrics_enabled: false }))).unless).status).not.toBe(0);
  });
});

describe('keycloak: keycloak.conf', () => {
  it('database, HTTP behind the proxy, management port, hostname or hostname-strict=false, the cache file, no password', () => {
    const c = keycloakConf(kv());
    expect(properties(c)).toEqual({
      'db-url': 'jdbc:postgresql://pg-vip:5432/keycloak',
      'db-username': 'keycloak',
      'http-enabled': 'true',
      'http-port': '8080',
      'http-management-port': '9000',
      'hostname-strict': 'false',
      'proxy-headers': 'xforwarded',
      cache: 'ispn',
      'cache-config-file': 'cache-ispn-orch.xml',
      'log-level': 'info',
    });
    expect(c).not.toContain('dbpw');
    const h = properties(keycloakConf(kv({ keycloak_hostname: 'https://lb.datalyptica.local', keycloak_proxy_headers: 'none', keycloak_runtime_options: { 'db-pool-max-size': 20 } })));
    expect(h.hostname).toBe('https://lb.datalyptica.local');
    expect(h['hostname-strict']).toBeUndefined();
    expect(h['proxy-headers']).toBeUndefined();
    expect(h['db-pool-max-size']).toBe('20');
    expect(() => keycloakConf(kv({ keycloak_runtime_options: { 'health-enabled': true } }))).toThrow(/a build option/);
    expect(() => keycloakConf(kv({ keycloak_runtime_options: { 'db-password': 'x' } }))).toThrow(/set by the role/);
  });
});

describe('keycloak: the cache configuration', () => {
  it("Keycloak 26.0.7's caches on a TCPPING stack over the inventory's members; well-formed XML", () => {
    const members = initialHosts(MINIMAL.filter((p) => p.groups.includes('keycloak')), 7800);
    expect(members).toBe('10.20.0.11[7800],10.20.0.12[7800],10.20.0.13[7800]');
    const x = cacheConfig(members);
    expect(x).toContain('<stack name="orch-tcpping" extends="tcp">');
    expect(x).toContain('<TCPPING initial_hosts="10.20.0.11[7800],10.20.0.12[7800],10.20.0.13[7800]" port_range="0" stack.combine="REPLACE" stack.position="MPING"/>');
    expect(x).toContain('<transport lock-timeout="60000" stack="orch-tcpping"/>');
    const caches = [...x.matchAll(/<(local|distributed|replicated)-cache name="([A-Za-z]+)"(?: simple-cache="true")?(?: owners="(\d)")?/g)].map((m) => `${m[1]} ${m[2]}${m[3] ? ` ${m[3]}` : ''}`);
    expect(caches).toEqual([
      'local realms',
      'local users',
      'distributed sessions 1',
      'distributed authenticationSessions 2',
      'distributed offlineSessions 1',
      'distributed clientSessions 1',
      'distributed offlineClientSessions 1',
      'distributed loginFailures 2',
      'local authorization',
      'replicated work',
      'local keys',
      'distributed actionTokens 2',
    ]);
    const f = join(tmp(), 'c.xml');
    writeFileSync(f, x);
    const lint = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])', f], { encoding: 'utf8' });
    expect(lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    expect(() => cacheConfig('a"b')).toThrow(/expected address/);
  });
});

describe('keycloak: secrets.env and the unit', () => {
  it('secrets.env: read back exactly by sh', () => {
    const odd = `p"a$s\\w'o rd`;
    const f = join(tmp(), 'secrets.env');
    writeFileSync(f, secretsEnv(kv({ keycloak_db_password: odd, keycloak_bootstrap_admin_password: 'a$b' })));
    const r = spawnSync('sh', ['-c', `. '${f}'; printf '%s|%s|%s' "$KC_DB_PASSWORD" "$KC_BOOTSTRAP_ADMIN_USERNAME" "$KC_BOOTSTRAP_ADMIN_PASSWORD"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${odd}|admin|a$b`);
    expect(() => secretsEnv(kv({ keycloak_db_password: 'a\nb' }))).toThrow(/newline/);
  });

  it('the unit: start --optimized of the release with the config file, the heap, JGroups on the host address', () => {
    const u = unit(kv(), { javaHome: JAVA, version: '26.0.7', address: '10.20.0.12', importRealm: false });
    expect(u).toContain(`ExecStart=/opt/keycloak/releases/26.0.7/bin/kc.sh --config-file=${CONF_FILE} start --optimized\n`);
    expect(u).toContain('Environment="JAVA_OPTS_KC_HEAP=-Xms3g -Xmx3g"\n');
    expect(u).toContain('Environment="JAVA_OPTS_APPEND=-Djgroups.bind.address=10.20.0.12 -Djgroups.bind.port=7800 -Djava.net.preferIPv4Stack=true"\n');
    expect(u).toContain(`EnvironmentFile=${SECRETS_FILE}\n`);
    expect(unit(kv(), { javaHome: JAVA, version: '26.0.7', address: 'a', importRealm: true })).toContain('start --optimized --import-realm\n');
    expect(readyCheck('10.20.0.12', 9000)).toBe('curl -fsS --max-time 5 -o /dev/null http://10.20.0.12:9000/health/ready');
    expect(readyCheck('h', 9000, '/auth/')).toBe('curl -fsS --max-time 5 -o /dev/null http://h:9000/auth/health/ready');
  });
});

describe('keycloak: validate, declarations, rollout, operations', () => {
  it('the defaults on minimal-5vm pass; problems are named', () => {
    expect(keycloak.validate!(ctx())).toEqual([]);
    expect(keycloak.validate!(ctx({ vars: { keycloak_version: '26.1.0' } }))).toEqual([
      'keycloak_version 26.1.0: not in the artifact catalogue (it has 26.0.7): set keycloak_sha512 to the sha512 of org/keycloak/keycloak-quarkus-dist/26.1.0/keycloak-quarkus-dist-26.1.0.zip',
    ]);
    expect(keycloak.validate!(ctx({ vars: { keycloak_build_options: { 'log-level': 'x' } } }))[0]).toMatch(/not a build option/);
    expect(keycloak.validate!(ctx({ vars: { keycloak_management_port: 8080 } }))[0]).toMatch(/must differ/);
    expect(keycloak.validate!(ctx({ hostVars: { java_package_version: '11' } }))).toEqual([
      'Keycloak 26.0.7 needs Java 17 or 21 and host vm1 gets Java 11: set java_package_version to 17 or 21, or keycloak_java_home',
    ]);
    expect(keycloak.validate!(ctx({ host: 'vm4' }))).toEqual(['host vm4 runs keycloak but is not in group keycloak']);
  });

  it('declares HTTP, management and both cluster ports, 4 GB for the 3g heap and 2 CPUs as the seeds give; rolls restarts behind /health/ready', () => {
    expect(keycloak.declares!(ctx())).toMatchObject({ memoryMb: 4096, cpus: 2, serves: ['keycloak'] });
    expect((keycloak.declares!(ctx()) as { ports: Array<{ port: number }> }).ports.map((p) => p.port)).toEqual([8080, 9000, 7800, 57800]);
    const r = keycloak.rollout!(ctx({ host: 'vm3' }))!;
    expect(r.services).toEqual(['keycloak']);
    expect(r.health.command).toBe('curl -fsS --max-time 5 -o /dev/null http://10.20.0.13:9000/health/ready');
  });

  it('operations in order: the zip, data/, the guarded build, config, cache file linked into conf/, secrets (masked), the unit; the first host imports the realms', () => {
    const realm = join(tmp(), 'datalyptica-realm.json');
    writeFileSync(realm, '{"realm":"datalyptica","enabled":true}');
    const list = keycloak.operations(ctx({ vars: { keycloak_realm_import_files: [realm] } }));
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages curl, unzip',
      'group keycloak',
      'user keycloak',
      'artifact /opt/keycloak/releases/26.0.7',
      'dir /opt/keycloak/releases/26.0.7/data',
      'command kc.sh build (db=postgres health-enabled=true metrics-enabled=true)',
      'dir /etc/keycloak',
      `file ${CONF_FILE}`,
      `file ${CACHE_FILE}`,
      'symlink /opt/keycloak/releases/26.0.7/conf/cache-ispn-orch.xml',
      `file ${SECRETS_FILE}`,
      'dir /etc/keycloak/import',
      'symlink /opt/keycloak/releases/26.0.7/data/import',
      'file /etc/keycloak/import/datalyptica-realm.json',
      'unit /etc/systemd/system/keycloak.service',
      'service keycloak.service',
      'health Keycloak ready on vm1 (/health/ready on 9000)',
    ]);
    const secrets = named(list, 'file', SECRETS_FILE)!;
    expect((secrets.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>).diff?.masked).toBe(true);
    expect(written(secrets)).toContain('KC_DB_PASSWORD="dbpw"');
    expect(written(named(list, 'file', '/etc/keycloak/import/datalyptica-realm.json'))).toBe('{"realm":"datalyptica","enabled":true}');
    expect(written(named(list, 'unit'))).toContain('start --optimized --import-realm\n');
    expect(named(list, 'command')!.notify).toEqual(['keycloak']);
    // the other members start without --import-realm
    expect(written(named(keycloak.operations(ctx({ host: 'vm2', vars: { keycloak_realm_import_files: [realm] } })), 'unit'))).toMatch(/start --optimized\n/);
    const art = named(list, 'artifact')!.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;
    expect(art.reason).toMatch(/^download keycloak-quarkus-dist-26\.0\.7\.zip \(sha512 65f779885aa4\.\.\) and unpack/);
  });
});

describe('keycloak: passwords generated once', () => {
  const withPatroni = MINIMAL.map((p) => (p.groups.includes('control_plane') ? { ...p, groups: [...p.groups, 'patroni'] } : p));
  const on = (vars: Record<string, unknown>, peers = withPatroni) =>
    roleContext(keycloak, { peers, host: 'vm1', vars, exported: { java: { java_home: JAVA } }, cluster: { db_password_keycloak: 'Generated-db-3', keycloak_bootstrap_admin_password: 'Generated-admin-4' } });
  it('empty passwords: the database one from the PostgreSQL cluster (db_password_keycloak), the bootstrap admin one of the members', () => {
    const c = on({ keycloak_db_password: '', keycloak_bootstrap_admin_password: '' });
    expect(keycloak.clusterValues!(c as any).map((s) => [s.name, s.group, s.override])).toEqual([
      ['db_password_keycloak', 'patroni', undefined],
      ['keycloak_bootstrap_admin_password', 'keycloak', 'keycloak_bootstrap_admin_password'],
    ]);
    expect(keycloak.validate!(c as any)).toEqual([]);
    const secrets = written(keycloak.operations(c).find((o) => o.name === '/etc/keycloak/secrets.env'));
    expect(secrets).toMatch(/^KC_DB_PASSWORD="?Generated-db-3"?$/m);
    expect(secrets).toMatch(/^KC_BOOTSTRAP_ADMIN_PASSWORD="?Generated-admin-4"?$/m);
  });
  it('without a PostgreSQL cluster group the database password must be given', () => {
    expect(keycloak.validate!(on({ keycloak_db_password: '' }, MINIMAL) as any)).toContain(
      'keycloak_db_password is empty and keycloak_database_group "patroni" names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster\'s group',
    );
  });
});
