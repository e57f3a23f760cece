/**
 * The trino role offline, against datalyptica-minimal-5vm.md (VM4: Trino coordinator + worker on 8080, VM5: two
 * workers on 8080 and 8081, 32 GB per process) and datalyptica-enterprise-50vm.md ("6. Trino": trino-coord01/02 both
 * coordinators with node-scheduler.include-coordinator=false and discovery.uri on coord01, trino-worker01..03): the
 * cluster layout, node.properties, jvm.config, config.properties and its memory limits, catalogs and their secrets,
 * the unit template, validate, the Java pick, the operations and declarations, and the query script run against a
 * stand-in curl. The real cluster: test/integration/role-trino.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickJavaHome } from '../../roles/java/index.js';
import trino, { trinoRelease } from '../../roles/trino/index.js';
import {
  CATALOG_DIR,
  SECRETS_FILE,
  catalogProblems,
  catalogProperties,
  clusterOf,
  configProperties,
  dataSize,
  dataSizeMb,
  heapMb,
  javaMajorFor,
  jvmConfig,
  memoryLimits,
  nodeIdOf,
  nodeProperties,
  queryScript,
  secretsEnv,
  unitTemplate,
  type TrinoVars,
} from '../../roles/trino/render.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { sh, tmp } from './ops-harness.js';
import { defaultsOf, named, peer, properties, roleContext, written } from './role-harness.js';

const DEFAULTS = defaultsOf(trino) as unknown as TrinoVars;
const tv = (over: Partial<TrinoVars> = {}): TrinoVars => ({ ...DEFAULTS, ...over });

// datalyptica-minimal-5vm.md: VM4 (10.20.0.21) coordinator + worker, VM5 (10.20.0.22) two workers
const MINIMAL: PeerHost[] = [
  peer('vm4', '10.20.0.21', ['data_plane', 'trino_coordinator', 'trino_worker']),
  peer('vm5', '10.20.0.22', ['data_plane', 'trino_worker'], { trino_worker_instances: 2 }),
];
// datalyptica-enterprise-50vm.md: query subnet 10.20.40.0/24, coordinators .11-.12, workers .21-.23
const ENTERPRISE: PeerHost[] = [
  peer('trino-coord01', '10.20.40.11', ['trino_coordinator']),
  peer('trino-coord02', '10.20.40.12', ['trino_coordinator']),
  peer('trino-worker01', '10.20.40.21', ['trino_worker']),
  peer('trino-worker02', '10.20.40.22', ['trino_worker']),
  peer('trino-worker03', '10.20.40.23', ['trino_worker']),
];
const HOMES = { '17': '/usr/lib/jvm/java-17-openjdk-amd64', '23': '/usr/lib/jvm/temurin-23' };
// the seed's Iceberg catalog on Nessie ("6. Trino"), property order as the seed writes it but connector.name last
const ICEBERG = {
  'iceberg.catalog.type': 'nessie',
  'iceberg.catalog.uri': 'http://nessie-vip:19120/api/v1',
  'iceberg.catalog.warehouse': 's3://datalyptica-warehouse/iceberg',
  'fs.native-s3.enabled': true,
  's3.endpoint': 'https://s3.enterprise.local',
  'connector.name': 'iceberg',
};

function ctx(o: { host?: string; peers?: PeerHost[]; vars?: Record<string, unknown>; homes?: Record<string, string> | null } = {}): RoleContext<any> {
  const peers = o.peers ?? MINIMAL;
  const host = o.host ?? peers[0].name;
  // the host's resolved variables hold the test's (the java role's too: validate reads java_archive_releases there);
  // the role's vars are the trino ones among them, over the defaults
  const all = peers.map((p) => (p.name === host ? { ...p, vars: { ...p.vars, ...o.vars } } : p));
  const self = all.find((p) => p.name === host);
  const vars = Object.fromEntries(Object.entries(self?.vars ?? o.vars ?? {}).filter(([k]) => k in trino.vars));
  return roleContext(trino, {
    peers: all,
    host,
    facts: { cpus: 32, memoryMb: 131072 },
    vars,
    exported: o.homes === null ? {} : { java: { java_home: HOMES['17'], java_homes: o.homes ?? HOMES } },
  });
}
const opsOf = (c: RoleContext<any>) => trino.operations(c) as Operation<any>[];
const validate = (c: RoleContext<any>) => trino.validate!(c) as string[];
const fileOf = (list: Operation<any>[], path: string) => written(named(list, 'file', path));
const changePlan = (op: Operation<any> | undefined, fact: unknown) => op!.plan(fact) as Extract<Plan, { status: 'change' }>;
const group = (peers: PeerHost[], g: string) => peers.filter((p) => p.groups.includes(g));
const cluster = (peers: PeerHost[], over: Partial<TrinoVars> = {}) => clusterOf(group(peers, 'trino_coordinator'), group(peers, 'trino_worker'), tv(over));

describe('trino: defaults are the seeds\' values', () => {
  it('Trino 469, port 8080, one worker per host, 26G heap (80% of the 32 GB per process), LimitNOFILE 131072', () => {
    expect(DEFAULTS).toMatchObject({
      trino_version: '469',
      trino_http_port: 8080,
      trino_worker_instances: 1,
      trino_instance_port_step: 1,
      trino_coordinator_group: 'trino_coordinator',
      trino_worker_group: 'trino_worker',
      trino_jvm_heap: '26G',
      trino_data_dir: '/data/trino',
      trino_limit_nofile: 131072,
      trino_limit_nproc: 128000,
    });
    expect(heapMb('26G') / (32 * 1024)).toBeCloseTo(0.8, 1);
    expect(trino.dependsOn).toEqual(['java']);
    expect(trino.vars.trino_secrets.secret).toBe(true);
  });
});

describe('trino: the cluster layout', () => {
  it('minimal-5vm: VM4 runs one process, coordinator and worker on 8080; VM5 two workers on 8080 and 8081', () => {
    const c = cluster(MINIMAL);
    expect(c.servers.map((s) => [s.host, s.id, s.coordinator, s.schedules, s.port, s.nodeId])).toEqual([
      ['vm4', '1', true, true, 8080, 'vm4'],
      ['vm5', '1', false, true, 8080, 'vm5-1'],
      ['vm5', '2', false, true, 8081, 'vm5-2'],
    ]);
    expect(c.coordinators.map((s) => s.host)).toEqual(['vm4']);
    expect(c.taskNodes).toHaveLength(3);
    expect(c.discoveryUri).toBe('http://10.20.0.21:8080');

    const vm4 = properties(fileOf(opsOf(ctx({ host: 'vm4' })), '/etc/trino/1/config.properties'));
    expect(vm4).toMatchObject({ coordinator: 'true', 'node-scheduler.include-coordinator': 'true', 'http-server.http.port': '8080', 'discovery.uri': 'http://10.20.0.21:8080' });
    const vm5 = opsOf(ctx({ host: 'vm5' }));
    expect(properties(fileOf(vm5, '/etc/trino/1/config.properties'))).toMatchObject({ coordinator: 'false', 'http-server.http.port': '8080', 'discovery.uri': 'http://10.20.0.21:8080' });
    expect(properties(fileOf(vm5, '/etc/trino/2/config.properties'))).toMatchObject({ coordinator: 'false', 'http-server.http.port': '8081', 'discovery.uri': 'http://10.20.0.21:8080' });
    // a worker has no include-coordinator line
    expect(properties(fileOf(vm5, '/etc/trino/2/config.properties'))['node-scheduler.include-coordinator']).toBeUndefined();
    // nothing of another host's process
    expect(named(vm5, 'file', '/etc/trino/3/config.properties')).toBeUndefined();
    expect(named(opsOf(ctx({ host: 'vm4' })), 'file', '/etc/trino/2/config.properties')).toBeUndefined();
  });

  it('the port step spreads the instances; a host\'s own trino_http_port moves them all', () => {
    const peers = [MINIMAL[0], peer('vm5', '10.20.0.22', ['trino_worker'], { trino_worker_instances: 3, trino_instance_port_step: 10, trino_http_port: 9000 })];
    expect(cluster(peers).servers.filter((s) => s.host === 'vm5').map((s) => [s.id, s.port, s.nodeId])).toEqual([
      ['1', 9000, 'vm5-1'],
      ['2', 9010, 'vm5-2'],
      ['3', 9020, 'vm5-3'],
    ]);
  });

  it('enterprise-50vm: two coordinators outside the worker group (include-coordinator=false), discovery on coord01, 3 workers', () => {
    const c = cluster(ENTERPRISE);
    expect(c.coordinators.map((s) => [s.host, s.schedules, s.port])).toEqual([
      ['trino-coord01', false, 8080],
      ['trino-coord02', false, 8080],
    ]);
    expect(c.taskNodes.map((s) => s.nodeId)).toEqual(['trino-worker01', 'trino-worker02', 'trino-worker03']);
    expect(c.discoveryUri).toBe('http://10.20.40.11:8080');
    for (const h of ['trino-coord01', 'trino-coord02']) {
      const p = properties(fileOf(opsOf(ctx({ peers: ENTERPRISE, host: h })), '/etc/trino/1/config.properties'));
      // the seed's lines
      expect(p).toMatchObject({ coordinator: 'true', 'node-scheduler.include-coordinator': 'false', 'discovery.uri': 'http://10.20.40.11:8080' });
    }
    const w = properties(fileOf(opsOf(ctx({ peers: ENTERPRISE, host: 'trino-worker02' })), '/etc/trino/1/config.properties'));
    expect(w).toMatchObject({ coordinator: 'false', 'discovery.uri': 'http://10.20.40.11:8080', 'http-server.http.port': '8080' });
    // trino_discovery_uri names it outright (the seed's host-name form)
    expect(cluster(ENTERPRISE, { trino_discovery_uri: 'http://trino-coord01:8080' }).discoveryUri).toBe('http://trino-coord01:8080');
    expect(validate(ctx({ peers: ENTERPRISE, host: 'trino-coord01', vars: { java_archive_releases: ['23.0.2+7'] } }))).toEqual([]);
  });

  it("enterprise-50vm's heaps per tier: the coordinators' cluster-wide query.max-memory is the workers' shares (30% of 102G x 3), not their own heap's", () => {
    const peers = ENTERPRISE.map((p) => ({ ...p, vars: { ...p.vars, trino_jvm_heap: p.name.includes('coord') ? '51G' : '102G' } }));
    const conf = (h: string) => properties(fileOf(opsOf(ctx({ peers, host: h, vars: { trino_jvm_heap: h.includes('coord') ? '51G' : '102G' } })), '/etc/trino/1/config.properties'));
    const share = Math.floor(102 * 1024 * 0.3);
    for (const h of ['trino-coord01', 'trino-worker01']) expect(conf(h)['query.max-memory'], h).toBe(`${3 * share}MB`);
    expect(conf('trino-worker01')['query.max-memory-per-node']).toBe(`${share}MB`);
    expect(conf('trino-coord01')['query.max-memory-per-node']).toBe(`${Math.floor(51 * 1024 * 0.3)}MB`);
  });
});

describe('trino: node.properties', () => {
  it('environment, a node.id from the inventory (stable, unique), a data dir per instance', () => {
    const list = opsOf(ctx({ host: 'vm5' }));
    const n1 = properties(fileOf(list, '/etc/trino/1/node.properties'));
    const n2 = properties(fileOf(list, '/etc/trino/2/node.properties'));
    expect(n1).toEqual({ 'node.environment': 'datalyptica', 'node.id': 'vm5-1', 'node.data-dir': '/data/trino/1' });
    expect(n2).toEqual({ 'node.environment': 'datalyptica', 'node.id': 'vm5-2', 'node.data-dir': '/data/trino/2' });
    expect(properties(fileOf(opsOf(ctx({ host: 'vm4' })), '/etc/trino/1/node.properties'))).toEqual({ 'node.environment': 'datalyptica', 'node.id': 'vm4', 'node.data-dir': '/data/trino/1' });
    // the same on every rerun: rendered twice, byte for byte
    expect(fileOf(opsOf(ctx({ host: 'vm5' })), '/etc/trino/2/node.properties')).toBe(fileOf(list, '/etc/trino/2/node.properties'));
    // every node.id of the cluster is different
    const ids = cluster(ENTERPRISE).servers.map((s) => s.nodeId).concat(cluster(MINIMAL).servers.map((s) => s.nodeId));
    expect(new Set(ids).size).toBe(ids.length);
    // the environment and data root from the inventory
    const s = cluster(MINIMAL).servers[2];
    expect(properties(nodeProperties(tv({ trino_environment: 'prod_eu', trino_data_dir: '/srv/trino' }), s))).toEqual({ 'node.environment': 'prod_eu', 'node.id': 'vm5-2', 'node.data-dir': '/srv/trino/2' });
  });

  it('node ids: Trino\'s characters only, -N only with instances, trino_node_id replaces the host name', () => {
    expect(nodeIdOf('vm4', '1', 1, '')).toBe('vm4');
    expect(nodeIdOf('vm5', '2', 2, '')).toBe('vm5-2');
    expect(nodeIdOf('vm5.dc1.example', '1', 2, '')).toBe('vm5_dc1_example-1');
    expect(nodeIdOf('vm5', '1', 1, 'query-a')).toBe('query-a');
    const peers = [MINIMAL[0], peer('vm5', '10.20.0.22', ['trino_worker'], { trino_worker_instances: 2, trino_node_id: 'rack2' })];
    expect(cluster(peers).servers.map((s) => s.nodeId)).toEqual(['vm4', 'rack2-1', 'rack2-2']);
  });
});

describe('trino: jvm.config', () => {
  it("the heap from trino_jvm_heap, Trino's documented flags, heap dumps into the instance's data dir", () => {
    const text = fileOf(opsOf(ctx({ host: 'vm5' })), '/etc/trino/2/jvm.config');
    expect(text).toBe(
      [
        '-server',
        '-Xmx26G',
        '-XX:InitialRAMPercentage=80',
        '-XX:MaxRAMPercentage=80',
        '-XX:G1HeapRegionSize=32M',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-XX:+ExitOnOutOfMemoryError',
        '-XX:+HeapDumpOnOutOfMemoryError',
        '-XX:HeapDumpPath=/data/trino/2',
        '-XX:-OmitStackTraceInFastThrow',
        '-XX:ReservedCodeCacheSize=512M',
        '-XX:PerMethodRecompilationCutoff=10000',
        '-XX:PerBytecodeRecompilationCutoff=10000',
        '-Djdk.attach.allowAttachSelf=true',
        '-Djdk.nio.maxCachedBufferSize=2000000',
        '-Dfile.encoding=UTF-8',
        '-XX:+EnableDynamicAgentLoading',
        '',
      ].join('\n'),
    );
    expect(jvmConfig(tv({ trino_jvm_heap: '1536M' }), { id: '1' }).split('\n')[1]).toBe('-Xmx1536M');
    // one flag a line, no comment lines (the launcher passes every line to the JVM)
    expect(text.split('\n').filter(Boolean).every((l) => l.startsWith('-'))).toBe(true);
    expect(() => jvmConfig(tv({ trino_jvm_heap: '26g' }), { id: '1' })).toThrow(/trino_jvm_heap "26g": expected e.g. 26G or 1536M/);
  });
});

describe('trino: config.properties memory limits', () => {
  it('26G heap: 30% per node and as headroom (7987MB), query.max-memory = per node x task processes', () => {
    expect(heapMb('26G')).toBe(26624);
    expect(dataSize(Math.floor(26624 * 0.3))).toBe('7987MB');
    // minimal-5vm: vm4 schedules on itself, so 3 task processes
    expect(memoryLimits(tv(), cluster(MINIMAL).taskNodes.length)).toEqual({ perNode: '7987MB', headroom: '7987MB', total: '23961MB' });
    const vm4 = properties(fileOf(opsOf(ctx({ host: 'vm4' })), '/etc/trino/1/config.properties'));
    expect(vm4).toMatchObject({ 'query.max-memory': '23961MB', 'query.max-memory-per-node': '7987MB', 'memory.heap-headroom-per-node': '7987MB' });
    // enterprise: the coordinators run no tasks, 3 workers
    expect(properties(configProperties(tv(), cluster(ENTERPRISE), cluster(ENTERPRISE).servers[0]))['query.max-memory']).toBe('23961MB');
    // whole GB where the arithmetic gives them
    expect(memoryLimits(tv({ trino_jvm_heap: '10G' }), 2)).toEqual({ perNode: '3GB', headroom: '3GB', total: '6GB' });
    expect(memoryLimits(tv({ trino_jvm_heap: '20G' }), 1)).toEqual({ perNode: '6GB', headroom: '6GB', total: '6GB' });
  });

  it("the inventory's limits are written as given; query.max-memory then follows the per-node limit it sets", () => {
    const c = cluster(MINIMAL);
    const p = properties(configProperties(tv({ trino_query_max_memory: '50GB', trino_query_max_memory_per_node: '9GB', trino_memory_heap_headroom_per_node: '4GB' }), c, c.servers[0]));
    expect(p).toMatchObject({ 'query.max-memory': '50GB', 'query.max-memory-per-node': '9GB', 'memory.heap-headroom-per-node': '4GB' });
    // only the per-node limit set: the cluster-wide one is that limit times the 3 task processes, not 30% of the heap's
    expect(memoryLimits(tv({ trino_query_max_memory_per_node: '10GB' }), 3)).toEqual({ perNode: '10GB', headroom: '7987MB', total: '30GB' });
    expect(memoryLimits(tv({ trino_query_max_memory_per_node: '1536MB' }), 1).total).toBe('1536MB');
    // so a single task process with a larger per-node limit is no problem
    const one = [peer('solo', '10.0.0.1', ['trino_coordinator', 'trino_worker'])];
    expect(validate(ctx({ peers: one, vars: { trino_query_max_memory_per_node: '10GB', java_archive_releases: ['23.0.2+7'] } }))).toEqual([]);
  });

  it('data sizes in MB, and the order and extras of config.properties', () => {
    expect(dataSizeMb('7GB')).toBe(7168);
    expect(dataSizeMb('614MB')).toBe(614);
    expect(dataSizeMb('1.5GB')).toBe(1536);
    expect(dataSizeMb('1TB')).toBe(1048576);
    expect(() => dataSizeMb('7G')).toThrow(/data size "7G"/);
    const c = cluster(MINIMAL);
    const text = configProperties(tv({ trino_extra_config: { 'query.max-execution-time': '1h', 'http-server.process-forwarded': true } }), c, c.servers[0]);
    expect(text.split('\n')).toEqual([
      '# Managed by orch (role trino): coordinator vm4 (trino@1)',
      'coordinator=true',
      'node-scheduler.include-coordinator=true',
      'http-server.http.port=8080',
      'discovery.uri=http://10.20.0.21:8080',
      'query.max-memory=23961MB',
      'query.max-memory-per-node=7987MB',
      'memory.heap-headroom-per-node=7987MB',
      'query.max-execution-time=1h',
      'http-server.process-forwarded=true',
      '',
    ]);
    expect(() => configProperties(tv({ trino_extra_config: { 'http-server.http.port': 9 } }), c, c.servers[0])).toThrow('trino_extra_config.http-server.http.port: set by the role from its own variables');
    expect(() => configProperties(tv({ trino_extra_config: { x: 'a\nb' } }), c, c.servers[0])).toThrow(/newline/);
  });
});

describe('trino: catalogs and their secrets', () => {
  it('one file per catalog, connector.name first, then the inventory\'s order, 0640 root:trino', () => {
    expect(catalogProperties('iceberg', ICEBERG).split('\n')).toEqual([
      '# Managed by orch (role trino): catalog iceberg',
      'connector.name=iceberg',
      'iceberg.catalog.type=nessie',
      'iceberg.catalog.uri=http://nessie-vip:19120/api/v1',
      'iceberg.catalog.warehouse=s3://datalyptica-warehouse/iceberg',
      'fs.native-s3.enabled=true',
      's3.endpoint=https://s3.enterprise.local',
      '',
    ]);
    const list = opsOf(ctx({ vars: { trino_catalogs: { iceberg: ICEBERG, tpch: { 'connector.name': 'tpch' } } } }));
    expect(fileOf(list, `${CATALOG_DIR}/iceberg.properties`)).toBe(catalogProperties('iceberg', ICEBERG));
    expect(fileOf(list, `${CATALOG_DIR}/tpch.properties`)).toBe('# Managed by orch (role trino): catalog tpch\nconnector.name=tpch\n');
    expect(catalogProblems(tv({ trino_catalogs: { iceberg: ICEBERG } }))).toEqual([]);
  });

  it('credentials are refused unless ${ENV:NAME} with NAME in trino_secrets', () => {
    const pg = { 'connector.name': 'postgresql', 'connection-url': 'jdbc:postgresql://vm1:5432/sales', 'connection-user': 'trino_reader' };
    expect(catalogProblems(tv({ trino_catalogs: { sales: { ...pg, 'connection-password': 'hunter2' } } }))).toEqual([
      'trino_catalogs.sales.connection-password: a credential is not written into the catalog file: put it in trino_secrets (e.g. TRINO_SALES_PASSWORD) and write ${ENV:TRINO_SALES_PASSWORD} here',
    ]);
    expect(catalogProblems(tv({ trino_catalogs: { sales: { ...pg, 'connection-password': '${ENV:PG_PW}' } } }))).toEqual([
      'trino_catalogs.sales.connection-password refers to ${ENV:PG_PW}, which neither trino_secrets nor trino_database_passwords defines',
    ]);
    expect(catalogProblems(tv({ trino_catalogs: { sales: { ...pg, 'connection-password': '${ENV:PG_PW}' } }, trino_secrets: { PG_PW: 'x' } }))).toEqual([]);
    // the other credential names: S3 keys, tokens
    const s3 = { 'connector.name': 'iceberg', 's3.aws-secret-key': 'AKIA-like', 's3.aws-access-key': 'plain', 'iceberg.rest-catalog.oauth2.token': '${ENV:TOK}' };
    const problems = catalogProblems(tv({ trino_catalogs: { lake: s3 }, trino_secrets: { TOK: 't' } }));
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain('trino_catalogs.lake.s3.aws-secret-key: a credential');
    expect(problems.join('\n')).toContain('trino_catalogs.lake.s3.aws-access-key: a credential');
    // a reference embedded in a longer value is no credential reference
    expect(catalogProblems(tv({ trino_catalogs: { sales: { ...pg, 'connection-password': 'x${ENV:PG_PW}' } }, trino_secrets: { PG_PW: 'x' } }))[0]).toContain('a credential is not written');
    // validate reports them before any host is touched
    expect(validate(ctx({ vars: { trino_catalogs: { sales: { ...pg, 'connection-password': 'hunter2' } }, java_archive_releases: ['23.0.2+7'] } })).join('\n')).toContain('trino_catalogs.sales.connection-password: a credential');
  });

  it('catalog names, connector.name, newlines, secret names', () => {
    const p = catalogProblems(tv({ trino_catalogs: { 'My-Cat': { 'connector.name': 'tpch' }, nocon: { 'tpch.splits-per-node': 4 }, nl: { 'connector.name': 'a\nb' } }, trino_secrets: { 'BAD-NAME': 'x' } }));
    expect(p).toEqual([
      'trino_catalogs.My-Cat: a catalog name is lowercase letters, digits and _ (it is the SQL name and the file name)',
      'trino_catalogs.nocon: connector.name is missing (e.g. iceberg, postgresql, clickhouse)',
      'trino_catalogs.nl.connector.name: a value holds a newline',
      'trino_secrets.BAD-NAME: an environment variable name is letters, digits and _',
    ]);
  });

  it('secrets.env: double-quoted values with ", $ and \\ escaped, which sh reads back as given', () => {
    const value = 'p"w$HOME\\x';
    const text = secretsEnv({ TRINO_SALES_PASSWORD: value, EMPTY: '' });
    expect(text).toBe('# Managed by orch (role trino): secrets the catalogs read as ${ENV:NAME}\nTRINO_SALES_PASSWORD="p\\"w\\$HOME\\\\x"\nEMPTY=""\n');
    expect(secretsEnv({})).toBe('# Managed by orch (role trino): secrets the catalogs read as ${ENV:NAME}\n');
    expect(() => secretsEnv({ X: 'a\nb' })).toThrow('trino_secrets.X: a value holds a newline');
    // systemd's EnvironmentFile undoes \", \$ and \\ inside double quotes, as sh does: sh reads it back byte for byte
    const d = tmp('orch-trino-');
    writeFileSync(join(d, 'secrets.env'), text);
    const r = sh(`. ${join(d, 'secrets.env')} && printf '%s' "$TRINO_SALES_PASSWORD"`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(value);
  });
});

describe('trino: database passwords generated on the PostgreSQL cluster', () => {
  const PG = { 'connector.name': 'postgresql', 'connection-url': 'jdbc:postgresql://10.20.0.100:5000/datalyptica', 'connection-user': 'datalyptica', 'connection-password': '${ENV:TRINO_POSTGRESQL_PASSWORD}' };
  const withPatroni = [...MINIMAL, peer('vm1', '10.20.0.11', ['control_plane', 'patroni'])];
  it('${ENV:NAME} of trino_database_passwords is the owner\'s generated password (cluster value db_password_<owner>) in secrets.env', () => {
    const vars = { trino_catalogs: { postgresql: PG }, trino_database_passwords: { TRINO_POSTGRESQL_PASSWORD: 'datalyptica' }, java_archive_releases: ['23.0.2+7'] };
    const c = ctx({ peers: withPatroni, vars });
    expect(validate(c)).toEqual([]);
    expect(trino.clusterValues!(c as any).map((v) => [v.name, v.group, v.secret])).toEqual([['db_password_datalyptica', 'patroni', true]]);
    const list = trino.operations({ ...c, cluster: (n: string) => (n === 'db_password_datalyptica' ? 'Generated-pg-5' : '') } as any) as Operation<any>[];
    expect(fileOf(list, SECRETS_FILE)).toMatch(/^TRINO_POSTGRESQL_PASSWORD="?Generated-pg-5"?$/m);
    expect(fileOf(list, `${CATALOG_DIR}/postgresql.properties`)).not.toContain('Generated-pg-5');
  });
  it('trino_secrets gives it instead (no cluster value); no cluster group to hold it is refused; an undefined NAME is named', () => {
    const given = ctx({ peers: withPatroni, vars: { trino_catalogs: { postgresql: PG }, trino_database_passwords: { TRINO_POSTGRESQL_PASSWORD: 'datalyptica' }, trino_secrets: { TRINO_POSTGRESQL_PASSWORD: 'Given-7' } } });
    expect(trino.clusterValues!(given as any)).toEqual([]);
    expect(validate(ctx({ vars: { trino_catalogs: { postgresql: PG }, trino_database_passwords: { TRINO_POSTGRESQL_PASSWORD: 'datalyptica' } } }))).toContain(
      'trino_database_passwords: group patroni (trino_database_group) has no hosts to hold the generated passwords: give them in trino_secrets or name the PostgreSQL cluster\'s group',
    );
    expect(validate(ctx({ peers: withPatroni, vars: { trino_catalogs: { postgresql: PG } } }))).toContain(
      'trino_catalogs.postgresql.connection-password refers to ${ENV:TRINO_POSTGRESQL_PASSWORD}, which neither trino_secrets nor trino_database_passwords defines',
    );
  });
});

describe('trino: the unit template', () => {
  it('launcher run with the instance\'s etc dir, JAVA_HOME of the picked JDK, the secrets file, Trino\'s limits', () => {
    const list = opsOf(ctx({ host: 'vm5' }));
    const unit = written(named(list, 'unit', '/etc/systemd/system/trino@.service'));
    expect(unit).toBe(unitTemplate(tv(), '/usr/lib/jvm/temurin-23', '/opt/trino/current'));
    for (const line of [
      'Type=simple',
      'User=trino',
      'Group=trino',
      'Environment=JAVA_HOME=/usr/lib/jvm/temurin-23',
      'Environment=PATH=/usr/lib/jvm/temurin-23/bin:/usr/local/bin:/usr/bin:/bin',
      `EnvironmentFile=-${SECRETS_FILE}`,
      'ExecStart=/opt/trino/current/bin/launcher run --etc-dir=/etc/trino/%i',
      'LimitNOFILE=131072',
      'LimitNPROC=128000',
      'Restart=on-failure',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    // the drop-ins carry the node id; resource_limits become MemoryMax / CPUQuota
    const drop = written(named(list, 'instance', '/etc/systemd/system/trino@2.service.d/orch-instance.conf'));
    expect(drop).toContain('Environment="TRINO_NODE_ID=vm5-2"');
    const limited = [MINIMAL[0], peer('vm5', '10.20.0.22', ['trino_worker'], { trino_worker_instances: 2, resource_limits: { trino: { memory_mb: 32768, cpus: 8 } } })];
    const c = roleContext(trino, { peers: limited, host: 'vm5', vars: { trino_worker_instances: 2 }, exported: { java: { java_homes: HOMES } } });
    const d2 = written(named(trino.operations(c), 'instance', '/etc/systemd/system/trino@2.service.d/orch-instance.conf'));
    expect(d2).toContain('MemoryMax=32768M');
    expect(d2).toContain('CPUQuota=800%');
  });
});

describe('trino: validate', () => {
  const java = { java_archive_releases: ['23.0.2+7'] };

  it('the seeds pass', () => {
    expect(validate(ctx({ host: 'vm4', vars: java }))).toEqual([]);
    expect(validate(ctx({ host: 'vm5', vars: java }))).toEqual([]);
  });

  it('no coordinator; a host in neither group', () => {
    const noCoord = [peer('w1', '10.0.0.1', ['trino_worker']), peer('w2', '10.0.0.2', ['trino_worker'])];
    expect(validate(ctx({ peers: noCoord, vars: java }))).toEqual(['trino needs a coordinator: no host in group trino_coordinator']);
    const stray = [...MINIMAL, peer('vm6', '10.20.0.23', ['data_plane'])];
    expect(validate(ctx({ peers: stray, host: 'vm6', vars: java }))).toEqual(['host vm6 runs trino but is in neither trino_coordinator nor trino_worker']);
  });

  it('duplicate node ids: two hosts given the same trino_node_id, or a host name another host\'s instance id takes', () => {
    const twice = [MINIMAL[0], peer('w1', '10.0.0.1', ['trino_worker'], { trino_node_id: 'worker' }), peer('w2', '10.0.0.2', ['trino_worker'], { trino_node_id: 'worker' })];
    expect(validate(ctx({ peers: twice, vars: java }))).toEqual(['node.id worker is both w1 trino@1 and w2 trino@1: give one host another trino_node_id']);
    const clash = [...MINIMAL, peer('vm5-2', '10.20.0.99', ['trino_worker'])];
    expect(validate(ctx({ peers: clash, vars: java }))).toEqual(['node.id vm5-2 is both vm5 trino@2 and vm5-2 trino@1: give one host another trino_node_id']);
  });

  it('memory: per node + headroom must stay below the heap; the cluster limit not below the per-node one', () => {
    const fill = validate(ctx({ vars: { ...java, trino_query_max_memory_per_node: '13GB', trino_memory_heap_headroom_per_node: '13GB' } }));
    expect(fill).toEqual(['query.max-memory-per-node (13GB) + memory.heap-headroom-per-node (13GB) must stay below the heap (26G): Trino refuses to start otherwise']);
    expect(validate(ctx({ vars: { ...java, trino_query_max_memory_per_node: '13GB', trino_memory_heap_headroom_per_node: '12GB' } }))).toEqual([]);
    expect(validate(ctx({ vars: { ...java, trino_query_max_memory: '4GB' } }))).toEqual(['query.max-memory (4GB) is below query.max-memory-per-node (7987MB)']);
  });

  it('a version the catalogue lacks needs trino_sha512', () => {
    expect(validate(ctx({ vars: { ...java, trino_version: '471' } }))).toEqual([
      'trino_version 471: not in the artifact catalogue (it has 469, 470, 476): set trino_sha512 to the sha512 of io/trino/trino-server/471/trino-server-471.tar.gz',
    ]);
    expect(validate(ctx({ vars: { ...java, trino_version: '471', trino_sha512: 'AB'.repeat(64) } }))).toEqual([]);
    expect(trinoRelease('471', 'AB'.repeat(64))).toMatchObject({ path: 'io/trino/trino-server/471/trino-server-471.tar.gz', topDir: 'trino-server-471', sha512: 'ab'.repeat(64) });
    expect(trinoRelease('471', '')).toBeUndefined();
    expect(() => opsOf(ctx({ vars: { trino_version: '471' } }))).toThrow('trino_version 471 is not in the artifact catalogue: set trino_sha512');
  });

  it("Java too old: the host's Java 17 without java_archive_releases is a problem naming java_archive_releases", () => {
    const old = validate(ctx({ host: 'vm5', vars: {}, peers: [MINIMAL[0], peer('vm5', '10.20.0.22', ['trino_worker'], { trino_worker_instances: 2, java_package_version: '17' })] }));
    expect(old).toEqual([
      'Trino 469 needs Java 23 or newer and host vm5 gets Java 17: add a Temurin release to java_archive_releases (e.g. ["23.0.2+7"]; the java role installs it from its archive) or set trino_java_home',
    ]);
    // the default package (17) with no archive is the same problem
    expect(validate(ctx({ vars: {} })).join('\n')).toContain('java_archive_releases');
    // Java 21 from the package is still too old for 469; Temurin 23 is enough; 476 needs 24 (25 is)
    const on = (hostVars: Record<string, unknown>, vars: Record<string, unknown> = {}) => validate(ctx({ peers: [peer('solo', '10.0.0.1', ['trino_coordinator', 'trino_worker'], hostVars)], vars }));
    expect(on({ java_package_version: '21' }).join('\n')).toContain('gets Java 21');
    expect(on({ java_archive_releases: ['23.0.2+7'] })).toEqual([]);
    expect(on({ java_archive_releases: ['23.0.2+7'] }, { trino_version: '476' }).join('\n')).toContain('Trino 476 needs Java 24 or newer and host solo gets Java 17, 23');
    expect(on({ java_archive_releases: ['23.0.2+7', '25.0.1+8'] }, { trino_version: '476' })).toEqual([]);
    // trino_java_home: the inventory's own JDK, not checked
    expect(on({}, { trino_java_home: '/opt/jdk-24' })).toEqual([]);
  });
});

describe('trino: the Java pick', () => {
  it('the smallest exported major that is new enough; the release notes\' requirements', () => {
    const homes = { '17': '/usr/lib/jvm/java-17-openjdk-amd64', '25': '/usr/lib/jvm/temurin-25', '23': '/usr/lib/jvm/temurin-23' };
    expect(pickJavaHome(homes, 23)).toBe('/usr/lib/jvm/temurin-23');
    expect(pickJavaHome(homes, 24)).toBe('/usr/lib/jvm/temurin-25');
    expect(pickJavaHome(homes, 17)).toBe('/usr/lib/jvm/java-17-openjdk-amd64');
    expect(pickJavaHome(homes, 26)).toBeUndefined();
    expect(pickJavaHome({}, 21)).toBeUndefined();
    expect(javaMajorFor('469')).toBe(23);
    expect(javaMajorFor('470')).toBe(23);
    expect(javaMajorFor('476')).toBe(24);
    expect(javaMajorFor('464')).toBe(23);
    expect(javaMajorFor('447')).toBe(22);
    expect(javaMajorFor('436')).toBe(21);
  });

  it('the unit gets the picked JDK, or trino_java_home; none new enough is an error naming java_archive_releases', () => {
    const unit = (c: RoleContext<any>) => written(named(opsOf(c), 'unit', '/etc/systemd/system/trino@.service'));
    expect(unit(ctx({ homes: { ...HOMES, '25': '/usr/lib/jvm/temurin-25' } }))).toContain('Environment=JAVA_HOME=/usr/lib/jvm/temurin-23\n');
    expect(unit(ctx({ vars: { trino_version: '476' }, homes: { ...HOMES, '25': '/usr/lib/jvm/temurin-25' } }))).toContain('Environment=JAVA_HOME=/usr/lib/jvm/temurin-25\n');
    expect(unit(ctx({ vars: { trino_java_home: '/opt/jdk-24' }, homes: null }))).toContain('Environment=JAVA_HOME=/opt/jdk-24\n');
    expect(() => opsOf(ctx({ homes: { '17': HOMES['17'] } }))).toThrow('Trino 469 needs Java 23+: the java role exports no such JDK on vm4 (java_archive_releases)');
    expect(() => opsOf(ctx({ homes: null }))).toThrow(/needs Java 23\+/);
  });
});

describe('trino: operations', () => {
  it('vm5: account, the release, shared files, per-instance files, the instances and the health check, in order', () => {
    const list = opsOf(ctx({ host: 'vm5', vars: { trino_catalogs: { iceberg: ICEBERG } } }));
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages curl',
      'group trino',
      'user trino',
      'artifact /opt/trino/releases/469',
      'dir /etc/trino',
      'dir /data/trino',
      'file /etc/trino/log.properties',
      'dir /etc/trino/catalog',
      'file /etc/trino/catalog/iceberg.properties',
      'prune /etc/trino/catalog/*.properties',
      'file /etc/trino/secrets.env',
      'dir /usr/local/libexec',
      'file /usr/local/libexec/orch-trino-query',
      ...['1', '2'].flatMap((i) => [
        `dir /etc/trino/${i}`,
        `file /etc/trino/${i}/node.properties`,
        `file /etc/trino/${i}/jvm.config`,
        `file /etc/trino/${i}/config.properties`,
        `symlink /etc/trino/${i}/catalog`,
        `symlink /etc/trino/${i}/log.properties`,
        `dir /data/trino/${i}`,
      ]),
      'unit /etc/systemd/system/trino@.service',
      'dir /etc/systemd/system/trino@1.service.d',
      'instance /etc/systemd/system/trino@1.service.d/orch-instance.conf',
      'dir /etc/systemd/system/trino@2.service.d',
      'instance /etc/systemd/system/trino@2.service.d/orch-instance.conf',
      'service trino@1.service',
      'service trino@2.service',
      'instances trino@*',
      'health Trino vm5-1 (8080), vm5-2 (8081) started',
    ]);
    // vm4 runs the coordinator: it also waits for every node of the inventory
    const vm4 = opsOf(ctx({ host: 'vm4' }));
    expect(vm4.filter((o) => o.kind === 'health').map((o) => o.name)).toEqual(['Trino vm4 (8080) started', 'the coordinator lists every Trino node of the inventory (3) as active']);
    expect(vm4.filter((o) => o.kind === 'service').map((o) => o.name)).toEqual(['trino@1.service']);
  });

  it('the config files are 0640 root:trino, secrets.env is secret, shared files restart every process, an instance\'s only its own', () => {
    const list = opsOf(ctx({ host: 'vm5', vars: { trino_catalogs: { iceberg: ICEBERG }, trino_secrets: { S3_SECRET: 'sekrit' } } }));
    const files = list.filter((o) => o.kind === 'file' && o.name.startsWith('/etc/trino/'));
    expect(files).toHaveLength(1 + 1 + 1 + 2 * 3);
    for (const f of files) expect(changePlan(f, { stat: null, sha256: null }).reason).toMatch(/, owner root, group trino, mode 0640\)$/);
    const secrets = named(list, 'file', SECRETS_FILE)!;
    expect(secrets.secret).toBe(true);
    const sp = changePlan(secrets, { stat: null, sha256: null });
    expect(sp.diff!.masked).toBe(true);
    expect(sp.diff!.after).toContain('S3_SECRET="sekrit"');
    expect(files.filter((f) => f !== secrets).every((f) => !f.secret)).toBe(true);
    for (const path of ['/etc/trino/log.properties', '/etc/trino/catalog/iceberg.properties', SECRETS_FILE]) expect(named(list, 'file', path)!.notify).toEqual(['trino@1', 'trino@2']);
    expect(named(list, 'file', '/etc/trino/2/config.properties')!.notify).toEqual(['trino@2']);
    expect(named(list, 'file', '/etc/trino/1/jvm.config')!.notify).toEqual(['trino@1']);
    // the query script is executable for the health checks, not secret
    expect(changePlan(named(list, 'file', '/usr/local/libexec/orch-trino-query'), { stat: null, sha256: null }).reason).toMatch(/owner root, group root, mode 0755\)$/);
    // each instance links the shared catalog dir and log.properties
    expect(changePlan(named(list, 'symlink', '/etc/trino/2/catalog'), {}).reason).toBe('create link -> /etc/trino/catalog');
    expect(changePlan(named(list, 'symlink', '/etc/trino/2/log.properties'), {}).reason).toBe('create link -> /etc/trino/log.properties');
    expect(fileOf(list, '/etc/trino/log.properties')).toBe('# Managed by orch (role trino): log levels\nio.trino=INFO\n');
  });

  it('the catalog dir is pruned to exactly the listed catalogs', () => {
    const list = opsOf(ctx({ vars: { trino_catalogs: { iceberg: ICEBERG, tpch: { 'connector.name': 'tpch' } } } }));
    const prune = named(list, 'prune')!;
    expect(prune.name).toBe('/etc/trino/catalog/*.properties');
    expect(prune.notify).toEqual(['trino@1']);
    expect(prune.plan(['iceberg.properties', 'tpch.properties'])).toEqual({ status: 'ok', reason: 'only iceberg.properties, tpch.properties' });
    expect(prune.plan(['hive.properties', 'iceberg.properties', 'tpch.properties'])).toEqual({
      status: 'change',
      reason: 'remove hive.properties (not in the inventory)',
      script: 'rm -f /etc/trino/catalog/hive.properties',
    });
    // no catalogs at all: every catalog file goes
    const none = named(opsOf(ctx()), 'prune')!;
    expect(changePlan(none, ['tpch.properties']).script).toBe('rm -f /etc/trino/catalog/tpch.properties');
    expect(none.plan([])).toEqual({ status: 'ok', reason: 'no *.properties' });
  });

  it('the release: Maven Central\'s tarball with the catalogue\'s checksum, or a mirror and trino_sha512', () => {
    const art = named(opsOf(ctx()), 'artifact')!;
    expect(art.name).toBe('/opt/trino/releases/469');
    const p = changePlan(art, { marker: null, dest: null, link: {} });
    expect(p.reason).toBe('download trino-server-469.tar.gz (sha256 111933d897a7..) and unpack, /opt/trino/current: create link -> /opt/trino/releases/469');
    expect(p.script).toContain('https://repo1.maven.org/maven2/io/trino/trino-server/469/trino-server-469.tar.gz');
    const m = changePlan(named(opsOf(ctx({ vars: { trino_version: '470', artifact_mirror: 'http://127.0.0.1:9/m/', trino_sha512: 'cd'.repeat(64) } })), 'artifact'), { marker: null, dest: null, link: {} });
    expect(m.script).toContain('http://127.0.0.1:9/m/io/trino/trino-server/470/trino-server-470.tar.gz');
    expect(m.reason).toContain('(sha512 cdcdcdcdcdcd..)');
  });

  it('rollout: the instances of the host, started and all listed by the coordinator', () => {
    const r = trino.rollout!(ctx({ host: 'vm5' }))!;
    expect(r.services).toEqual(['trino@*']);
    expect(r.health!.command).toBe(
      `curl -fsS --max-time 5 http://10.20.0.22:8080/v1/info | grep -q '"starting":false' && curl -fsS --max-time 5 http://10.20.0.22:8081/v1/info | grep -q '"starting":false' && [ "$(/usr/local/libexec/orch-trino-query http://10.20.0.21:8080 "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'")" = '[[3]]' ]`,
    );
    expect(r.health!.description).toBe('Trino vm5-1, vm5-2 started; the coordinator lists 3 active nodes');
  });
});

describe('trino: declarations', () => {
  it('a port per process, memory of the heap and a fifth more per process', () => {
    const vm5 = trino.declares!(ctx({ host: 'vm5' }));
    expect(vm5.ports).toEqual([
      { port: 8080, variable: 'trino_http_port', description: 'Trino worker vm5-1 HTTP' },
      { port: 8081, variable: 'trino_http_port', description: 'Trino worker vm5-2 HTTP' },
    ]);
    expect(vm5.memoryMb).toBe(2 * Math.round(26624 * 1.2));
    expect(vm5.dataDirs).toEqual(['/data/trino']);
    const vm4 = trino.declares!(ctx({ host: 'vm4' }));
    expect(vm4.ports).toEqual([{ port: 8080, variable: 'trino_http_port', description: 'Trino coordinator vm4 HTTP' }]);
    // one process of the seed's 32 GB
    expect(vm4.memoryMb).toBe(31949);
    expect(vm4.memoryMb!).toBeLessThanOrEqual(32 * 1024);
    expect(trino.declares!(ctx({ peers: ENTERPRISE, host: 'trino-coord02' })).ports!.map((p) => p.port)).toEqual([8080]);
  });
});

describe('trino: the query script', () => {
  // a stand-in curl answering Trino's client protocol from canned pages: the POST gets page 0, GET <nextUri> its page
  function fakeCurl(pages: string[]): string {
    const dir = tmp('orch-trino-curl-');
    pages.forEach((p, i) => writeFileSync(join(dir, `page${i}.json`), p));
    writeFileSync(
      join(dir, 'curl'),
      [
        '#!/bin/sh',
        `dir=${dir}`,
        'post=; for a; do [ "$a" = POST ] && post=1; url=$a; done',
        'echo "$*" >>"$dir/calls"',
        'if [ -n "$post" ]; then cat "$dir/page0.json"; exit 0; fi',
        'case "$url" in',
        '  */next/*) n=${url##*/}; [ -f "$dir/page$n.json" ] || exit 22; cat "$dir/page$n.json" ;;',
        '  *) exit 7 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'curl'), 0o755);
    writeFileSync(join(dir, 'orch-trino-query'), queryScript());
    chmodSync(join(dir, 'orch-trino-query'), 0o755);
    return dir;
  }
  const run = (dir: string, sql = "SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'") => {
    const r = spawnSync(join(dir, 'orch-trino-query'), ['http://10.20.0.21:8080', sql], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const QUEUED = '{"id":"20250101_000000_00001_abcde","infoUri":"http://10.20.0.21:8080/ui/query.html?20250101_000000_00001_abcde","nextUri":"http://10.20.0.21:8080/v1/statement/queued/next/1","stats":{"state":"QUEUED","queued":true,"scheduled":false,"nodes":0,"totalSplits":0},"warnings":[]}';
  const DATA =
    '{"id":"20250101_000000_00001_abcde","infoUri":"http://10.20.0.21:8080/ui/query.html?20250101_000000_00001_abcde","columns":[{"name":"_col0","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}],"data":[[3]],"stats":{"state":"FINISHED","queued":false,"scheduled":true,"nodes":3,"totalSplits":5,"rootStage":{"stageId":"0","state":"FINISHED","subStages":[]}},"warnings":[]}';
  const FAILED =
    '{"id":"20250101_000000_00002_abcde","infoUri":"http://10.20.0.21:8080/ui/query.html?20250101_000000_00002_abcde","stats":{"state":"FAILED","queued":false,"scheduled":false,"nodes":0},"error":{"message":"line 1:8: Column \'x\' cannot be resolved","sqlState":"42S22","errorCode":47,"errorName":"COLUMN_NOT_FOUND","errorType":"USER_ERROR","errorLocation":{"lineNumber":1,"columnNumber":8},"failureInfo":{"type":"io.trino.spi.TrinoException","message":"line 1:8: Column \'x\' cannot be resolved","suppressed":[],"stack":[]}},"warnings":[]}';

  it('parses as POSIX sh (sh -n), as the health command that runs it does', () => {
    const d = tmp('orch-trino-');
    writeFileSync(join(d, 'q'), queryScript());
    expect(spawnSync('sh', ['-n', join(d, 'q')], { encoding: 'utf8' }).status).toBe(0);
    expect(queryScript().startsWith('#!/bin/sh\n')).toBe(true);
    const health = trino.rollout!(ctx({ host: 'vm5' }))!.health!.command;
    writeFileSync(join(d, 'h'), health);
    expect(spawnSync('sh', ['-n', join(d, 'h')], { encoding: 'utf8' }).status).toBe(0);
  });

  it('follows nextUri from the QUEUED page and prints the data page\'s [[3]]', () => {
    const dir = fakeCurl([QUEUED, DATA]);
    const r = run(dir);
    expect(r).toEqual({ code: 0, stdout: '[[3]]', stderr: '' });
    // the POST carried the SQL and the user; the GET went to nextUri
    const calls = sh(`cat ${dir}/calls`).stdout.split('\n').filter(Boolean);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain('-X POST -H X-Trino-User: orch --data-binary SELECT count(*) FROM system.runtime.nodes WHERE state = \'active\' http://10.20.0.21:8080/v1/statement');
    expect(calls[1]).toContain('http://10.20.0.21:8080/v1/statement/queued/next/1');
  });

  it('prints every data page (a data page with nextUri, then the last one without data)', () => {
    const withNext = DATA.replace('"columns"', '"nextUri":"http://10.20.0.21:8080/v1/statement/executing/next/2","columns"');
    const last = '{"id":"20250101_000000_00001_abcde","infoUri":"http://x/ui","columns":[{"name":"_col0","type":"bigint"}],"stats":{"state":"FINISHED"},"warnings":[]}';
    expect(run(fakeCurl([QUEUED, withNext, last]))).toEqual({ code: 0, stdout: '[[3]]', stderr: '' });
  });

  it("a failed query: exit 1 with Trino's message on stderr; no answer: exit 2", () => {
    const r = run(fakeCurl([QUEUED, FAILED]));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("line 1:8: Column 'x' cannot be resolved\n");
    expect(r.stdout).toBe('');
    // the error on the first answer
    expect(run(fakeCurl([FAILED])).code).toBe(1);
    // the server unreachable, or a nextUri that fails
    const down = tmp('orch-trino-curl-');
    writeFileSync(join(down, 'curl'), '#!/bin/sh\nexit 7\n');
    chmodSync(join(down, 'curl'), 0o755);
    writeFileSync(join(down, 'orch-trino-query'), queryScript());
    chmodSync(join(down, 'orch-trino-query'), 0o755);
    expect(run(down).code).toBe(2);
    expect(run(fakeCurl([QUEUED.replace('/next/1', '/next/9')])).code).toBe(2);
  });

  it('the health check compares the count the coordinator answers with the inventory\'s', () => {
    const dir = fakeCurl([QUEUED, DATA]);
    // the script where the health command expects it is in this test's dir
    const cmd = (n: number) => trino.rollout!(ctx({ host: 'vm5' }))!.health!.command.split(' && ').pop()!.replace('/usr/local/libexec/orch-trino-query', join(dir, 'orch-trino-query')).replace('[[3]]', `[[${n}]]`);
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    expect(sh(cmd(3), env).code).toBe(0);
    expect(sh(cmd(4), env).code).toBe(1);
  });
});
