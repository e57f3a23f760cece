/**
 * The nessie role offline, against datalyptica-minimal-5vm.md (VM1-3: Nessie 0.98.2 on 19120, 4 GB each) and
 * datalyptica-enterprise-50vm.md ("3. Nessie Catalog": nessie01-03 active-active on a shared PostgreSQL,
 * nessie.version.store.type=JDBC, quarkus.datasource.jdbc.url=jdbc:postgresql://pg-vip:5432/nessie): defaults,
 * application.properties, secrets.env (read back by sh), the unit, validate (release, Java, warehouses, keys),
 * declarations, the rollout and the operations. The real cluster: test/integration/role-nessie.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import nessie, { nessieReleaseOf } from '../../roles/nessie/index.js';
import { pickJavaHome } from '../../roles/java/index.js';
import { CONFIG_FILE, SECRETS_FILE, applicationProperties, heapMb, secretsEnv, unit, type NessieVars } from '../../roles/nessie/render.js';
import type { Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, properties, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(nessie) as unknown as NessieVars;
const nv = (over: Partial<NessieVars> = {}): NessieVars => ({ ...DEFAULTS, nessie_jdbc_password: 'pw', ...over });

// datalyptica-minimal-5vm.md: VM1-3 (10.20.0.11-13) run Nessie
const MINIMAL: PeerHost[] = [
  peer('vm1', '10.20.0.11', ['control_plane', 'nessie']),
  peer('vm2', '10.20.0.12', ['control_plane', 'nessie']),
  peer('vm3', '10.20.0.13', ['control_plane', 'nessie']),
  peer('vm4', '10.20.0.21', ['data_plane']),
];
const HOMES = { '17': '/usr/lib/jvm/java-17-openjdk-amd64', '23': '/usr/lib/jvm/temurin-23' };

function ctx(o: { host?: string; vars?: Record<string, unknown>; hostVars?: Record<string, unknown>; homes?: Record<string, string> } = {}): RoleContext<any> {
  const host = o.host ?? 'vm1';
  const peers = MINIMAL.map((p) => (p.name === host ? { ...p, vars: { ...p.vars, ...o.hostVars } } : p));
  return roleContext(nessie, { peers, host, vars: { nessie_jdbc_password: 'pw', ...o.vars }, exported: { java: { java_home: HOMES['17'], java_homes: o.homes ?? HOMES } } });
}

describe('nessie: defaults from the seeds', () => {
  it("has the seeds' version, port and database; 3g heap for the seed's 4 GB", () => {
    expect(DEFAULTS).toMatchObject({
      nessie_version: '0.98.2',
      nessie_port: 19120,
      nessie_jdbc_url: 'jdbc:postgresql://pg-vip:5432/nessie',
      nessie_version_store_type: 'JDBC2',
      nessie_heap: '3g',
      nessie_warehouses: { warehouse: 's3://datalyptica-warehouse/iceberg' },
      nessie_default_branch: 'main',
    });
    expect(nessie.vars.nessie_jdbc_password.secret).toBe(true);
    expect(nessie.vars.nessie_s3_secret_access_key.secret).toBe(true);
    expect(nessie.doc).toMatch(/0\.98\.2 is not catalogued/);
    expect(nessie.doc).toMatch(/Java 21/);
  });
});

describe('nessie: application.properties', () => {
  it('the JDBC version store on PostgreSQL (password only as a reference), ports, the Iceberg warehouse', () => {
    const p = properties(applicationProperties(nv()));
    expect(p).toEqual({
      'quarkus.http.port': '19120',
      'quarkus.management.port': '19121',
      'nessie.server.default-branch': 'main',
      'nessie.version.store.type': 'JDBC2',
      'nessie.version.store.persist.jdbc.datasource': 'postgresql',
      'quarkus.datasource.postgresql.jdbc.url': 'jdbc:postgresql://pg-vip:5432/nessie',
      'quarkus.datasource.postgresql.username': 'nessie',
      'quarkus.datasource.postgresql.password': '${NESSIE_JDBC_PASSWORD}',
      'quarkus.datasource.postgresql.jdbc.max-size': '20',
      'nessie.catalog.default-warehouse': 'warehouse',
      'nessie.catalog.warehouses.warehouse.location': 's3://datalyptica-warehouse/iceberg',
      'nessie.catalog.service.s3.default-options.region': 'us-east-1',
      'nessie.catalog.service.s3.default-options.path-style-access': 'false',
      'nessie.catalog.object-stores.health-check.enabled': 'true',
    });
    expect(applicationProperties(nv())).not.toContain('pw');
  });

  it("the seed's deprecated JDBC store on request; S3 endpoint and credentials as references; no warehouse: no catalog keys; extra keys", () => {
    const p = properties(
      applicationProperties(nv({ nessie_version_store_type: 'JDBC', nessie_s3_endpoint: 'https://s3.enterprise.local', nessie_s3_access_key_id: 'AK', nessie_s3_secret_access_key: 'SK', nessie_extra_properties: { 'quarkus.log.level': 'WARN' } })),
    );
    expect(p['nessie.version.store.type']).toBe('JDBC');
    expect(p['nessie.catalog.service.s3.default-options.endpoint']).toBe('https://s3.enterprise.local');
    expect(p['nessie.catalog.service.s3.default-options.access-key']).toBe('urn:nessie-secret:quarkus:orch-secrets.s3-default');
    expect(p['orch-secrets.s3-default.name']).toBe('${NESSIE_S3_ACCESS_KEY_ID}');
    expect(p['orch-secrets.s3-default.secret']).toBe('${NESSIE_S3_SECRET_ACCESS_KEY}');
    expect(p['quarkus.log.level']).toBe('WARN');
    const none = properties(applicationProperties(nv({ nessie_warehouses: {} })));
    expect(Object.keys(none).filter((k) => k.includes('warehouse') || k.includes('.s3.'))).toEqual([]);
    // the seed's compression / max-batch-size are not rendered: Nessie 0.99 does not know them and refuses to start
    expect(applicationProperties(nv())).not.toMatch(/compression|max-batch-size/);
    expect(() => applicationProperties(nv({ nessie_extra_properties: { 'quarkus.http.port': 1 } }))).toThrow(/set by the role/);
    expect(() => applicationProperties(nv({ nessie_extra_properties: { x: 'a\nb' } }))).toThrow(/newline/);
  });
});

describe('nessie: secrets.env', () => {
  it('holds the password and the S3 keys, quoted so that sh (as systemd) reads them back exactly', () => {
    const odd = `p"a$s\\w'o rd`;
    const text = secretsEnv(nv({ nessie_jdbc_password: odd, nessie_s3_access_key_id: 'AK', nessie_s3_secret_access_key: 'S$K' }));
    const f = join(tmp(), 'secrets.env');
    writeFileSync(f, text);
    const r = spawnSync('sh', ['-c', `. '${f}'; printf '%s|%s|%s' "$NESSIE_JDBC_PASSWORD" "$NESSIE_S3_ACCESS_KEY_ID" "$NESSIE_S3_SECRET_ACCESS_KEY"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${odd}|AK|S$K`);
    expect(secretsEnv(nv())).not.toContain('NESSIE_S3');
    expect(() => secretsEnv(nv({ nessie_jdbc_password: 'a\nb' }))).toThrow(/newline/);
  });
});

describe('nessie: unit', () => {
  it('runs the release jar with the heap, the configuration and the EnvironmentFile', () => {
    const u = unit(nv(), '/usr/lib/jvm/temurin-23', '0.99.0');
    expect(u).toContain('User=nessie\n');
    expect(u).toContain(`EnvironmentFile=${SECRETS_FILE}\n`);
    expect(u).toContain(`ExecStart=/usr/lib/jvm/temurin-23/bin/java -Xms3g -Xmx3g -XX:+ExitOnOutOfMemoryError -Dquarkus.config.locations=${CONFIG_FILE} -jar /opt/nessie/releases/0.99.0/nessie-quarkus-0.99.0-runner.jar\n`);
    expect(u).toContain('WorkingDirectory=/var/lib/nessie\n');
    expect(heapMb('3g')).toBe(3072);
    expect(heapMb('256m')).toBe(256);
    expect(() => unit(nv({ nessie_heap: '3 GB' }), '/j', '0.99.0')).toThrow(/nessie_heap/);
  });
});

describe('nessie: validate', () => {
  it('the defaults on minimal-5vm: 0.98.2 needs nessie_sha512, and Java 21 (VM1-3 get only OpenJDK 17)', () => {
    const problems = nessie.validate!(ctx());
    expect(problems).toContain(
      'nessie_version 0.98.2: not in the artifact catalogue (it has 0.99.0): set nessie_sha512 to the sha512 of org/projectnessie/nessie/nessie-quarkus/0.98.2/nessie-quarkus-0.98.2-runner.jar',
    );
    expect(problems).toContain('Nessie 0.98.2 needs Java 21 or newer and host vm1 gets Java 17: add a Temurin release to java_archive_releases (e.g. ["23.0.2+7"]) or set nessie_java_home');
    expect(problems).toHaveLength(2);
  });

  it('0.99.0 with a Temurin 23 archive passes; 0.98.2 with a sha512 passes', () => {
    expect(nessie.validate!(ctx({ vars: { nessie_version: '0.99.0' }, hostVars: { java_archive_releases: ['23.0.2+7'] } }))).toEqual([]);
    expect(nessie.validate!(ctx({ vars: { nessie_sha512: 'AB'.repeat(64) }, hostVars: { java_archive_releases: ['23.0.2+7'] } }))).toEqual([]);
    const r = nessieReleaseOf('0.98.2', 'AB'.repeat(64))!;
    expect(r.sha512).toBe('ab'.repeat(64));
    expect(r.path).toBe('org/projectnessie/nessie/nessie-quarkus/0.98.2/nessie-quarkus-0.98.2-runner.jar');
    expect(nessieReleaseOf('0.98.2', '')).toBeUndefined();
  });

  it('refuses a default warehouse that is not one, half the S3 credentials, equal ports, role keys in nessie_extra_properties, a host outside the group', () => {
    const base = { nessie_version: '0.99.0', nessie_java_home: '/j' };
    expect(nessie.validate!(ctx({ vars: { ...base, nessie_default_warehouse: 'lake' } }))).toEqual(['nessie_default_warehouse lake is not one of nessie_warehouses (warehouse)']);
    expect(nessie.validate!(ctx({ vars: { ...base, nessie_s3_access_key_id: 'AK' } }))).toEqual(['nessie_s3_access_key_id and nessie_s3_secret_access_key go together: give both or neither']);
    expect(nessie.validate!(ctx({ vars: { ...base, nessie_management_port: 19120 } }))).toEqual(['nessie_port and nessie_management_port are both 19120']);
    expect(nessie.validate!(ctx({ vars: { ...base, nessie_extra_properties: { 'nessie.version.store.type': 'IN_MEMORY' } } }))).toEqual([
      'nessie_extra_properties.nessie.version.store.type: set by the role from its own variables',
    ]);
    expect(nessie.validate!(ctx({ host: 'vm4', vars: base }))).toEqual(['host vm4 runs nessie but is not in group nessie']);
  });
});

describe('nessie: declarations, rollout, operations', () => {
  it('declares both ports, 4 GB for the 3g heap and 2 CPUs as the seeds give, serves group nessie', () => {
    expect(nessie.declares!(ctx())).toEqual({
      ports: [
        { port: 19120, variable: 'nessie_port', description: 'Nessie REST API and Iceberg REST catalog' },
        { port: 19121, variable: 'nessie_management_port', description: 'Nessie management (health, metrics)' },
      ],
      memoryMb: 4096,
      cpus: 2,
      serves: ['nessie'],
    });
  });

  it('rolls restarts host by host behind readiness and the API', () => {
    const r = nessie.rollout!(ctx({ host: 'vm2' }))!;
    expect(r.services).toEqual(['nessie']);
    expect(r.health.command).toBe(
      `curl -fsS --max-time 5 -o /dev/null http://10.20.0.12:19121/q/health/ready && curl -fsS --max-time 5 http://10.20.0.12:19120/api/v2/config | grep -q '"defaultBranch" *: *"main"'`,
    );
    // the API check matches Nessie's pretty-printed answer
    const r2 = spawnSync('sh', ['-c', `printf '{\\n  "defaultBranch" : "main",\\n}' | grep -q '"defaultBranch" *: *"main"'`]);
    expect(r2.status).toBe(0);
  });

  it('operations: the jar kept whole from the mirror with the catalogue sha512, files 0640 root:nessie (secrets marked), the unit with the picked JDK', () => {
    const list = nessie.operations(ctx({ vars: { nessie_version: '0.99.0', artifact_mirror: 'http://mirror.example/m2/' } }));
    const art = named(list, 'artifact', '/opt/nessie/releases/0.99.0')!;
    expect(art).toBeDefined();
    const plan = art.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;
    expect(plan.reason).toMatch(/^download nessie-quarkus-0\.99\.0-runner\.jar \(sha512 7d78865f301d\.\.\) and place it in \/opt\/nessie\/releases\/0\.99\.0, \/opt\/nessie\/current: create link/);
    expect(plan.script).toMatch(/cp "\$f" "\$d\/x\/"'?nessie-quarkus-0\.99\.0-runner\.jar/);
    expect(art.uploads).toBeDefined();
    const secrets = named(list, 'file', SECRETS_FILE)!;
    expect(written(secrets)).toContain('NESSIE_JDBC_PASSWORD="pw"');
    // marked secret: its diff is masked (--diff never shows the password)
    const p = secrets.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>;
    expect(p.diff?.masked).toBe(true);
    expect(secrets.secret).toBe(true);
    const conf = written(named(list, 'file', CONFIG_FILE));
    expect(conf).toContain('quarkus.datasource.postgresql.password=${NESSIE_JDBC_PASSWORD}');
    const u = written(named(list, 'unit'));
    expect(u).toContain('ExecStart=/usr/lib/jvm/temurin-23/bin/java ');
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages curl',
      'group nessie',
      'user nessie',
      'artifact /opt/nessie/releases/0.99.0',
      'dir /etc/nessie',
      'dir /var/lib/nessie',
      `file ${CONFIG_FILE}`,
      `file ${SECRETS_FILE}`,
      'unit /etc/systemd/system/nessie.service',
      'service nessie.service',
      'health Nessie ready on vm1 (/q/health/ready on 19121) and serving branch main on 19120',
    ]);
    expect(pickJavaHome(HOMES, 21)).toBe('/usr/lib/jvm/temurin-23');
    expect(pickJavaHome({ '17': '/a' }, 21)).toBeUndefined();
    expect(() => nessie.operations(ctx({ vars: { nessie_version: '0.99.0' }, homes: { '17': '/a' } }))).toThrow(/needs Java 21\+/);
  });
});

describe('nessie: the database password generated on the PostgreSQL cluster', () => {
  const withPatroni = MINIMAL.map((p) => (p.groups.includes('control_plane') ? { ...p, groups: [...p.groups, 'patroni'] } : p));
  const on = (vars: Record<string, unknown>, peers = withPatroni) =>
    roleContext(nessie, { peers: peers.map((p) => ({ ...p, vars: { ...p.vars, java_archive_releases: ['23.0.2+7'] } })), host: 'vm1', vars: { nessie_version: '0.99.0', ...vars }, exported: { java: { java_home: HOMES['17'], java_homes: HOMES } }, cluster: { db_password_nessie: 'Generated-pw-7' } });
  it('empty nessie_jdbc_password: reads cluster value db_password_nessie of group patroni into secrets.env', () => {
    const c = on({ nessie_jdbc_password: '' });
    expect(nessie.clusterValues!(c as any).map((s) => [s.name, s.group, s.secret])).toEqual([['db_password_nessie', 'patroni', true]]);
    expect(nessie.validate!(c as any)).toEqual([]);
    const secrets = nessie.operations(c).find((o) => o.name === '/etc/nessie/secrets.env')!;
    expect(written(secrets)).toContain('Generated-pw-7');
  });
  it('a given password wins (no cluster value); neither a password nor a database group is refused, naming both fixes', () => {
    expect(nessie.clusterValues!(on({ nessie_jdbc_password: 'Given-1' }) as any)).toEqual([]);
    expect(nessie.validate!(on({ nessie_jdbc_password: '' }, MINIMAL) as any)).toEqual([
      'nessie_jdbc_password is empty and nessie_database_group "patroni" names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster\'s group',
    ]);
  });
});
