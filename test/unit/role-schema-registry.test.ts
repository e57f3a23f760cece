import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import role from '../../roles/schema-registry/index.js';
import { confluentRelease, healthCommand, kafkaStore, problems, schemaRegistryProperties, unitFile, type SchemaRegistryVars } from '../../roles/schema-registry/render.js';
import { artifactSource } from '../../src/artifacts/index.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import { shAsync } from './ops-harness.js';
import { named, roleContext, written } from './role-harness.js';

const DEFAULTS = Object.fromEntries(Object.entries(role.vars).map(([k, s]) => [k, s.default])) as unknown as SchemaRegistryVars;
const SHA512 = 'ab'.repeat(64);

// datalyptica-minimal-5vm.md: Kafka on VM1-VM3 (combined nodes), Schema Registry on VM1 and VM2
const MINIMAL: PeerHost[] = [1, 2, 3].map((i) => ({
  name: `vm${i}`,
  address: `10.20.0.1${i}`,
  groups: ['control_plane', 'kafka', ...(i <= 2 ? ['schema_registry'] : [])],
  vars: { node_id: i },
}));
// datalyptica-enterprise-50vm.md: kafka01-05 (controllers on 01-03), schema01-03 on 10.20.20.21-23
const ENTERPRISE: PeerHost[] = [
  ...[1, 2, 3, 4, 5].map((i) => ({ name: `kafka0${i}`, address: `10.20.20.1${i}`, groups: ['kafka'], vars: { node_id: i, kafka_process_roles: i <= 3 ? 'broker,controller' : 'broker' } })),
  ...[1, 2, 3].map((i) => ({ name: `schema0${i}`, address: `10.20.20.2${i}`, groups: ['schema_registry'], vars: {} })),
];


function ctx(o: { host?: string; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown>; peers?: PeerHost[] } = {}): RoleContext<any> {
  const osFamily = o.osFamily ?? 'debian';
  const java = osFamily === 'redhat' ? '/usr/lib/jvm/jre-17-openjdk' : '/usr/lib/jvm/java-17-openjdk-amd64';
  return roleContext(role, { peers: o.peers ?? MINIMAL, host: o.host ?? 'vm1', facts: { osFamily, cpus: 32, memoryMb: 131072 }, vars: { schema_registry_sha512: SHA512, ...o.vars }, exported: { java: { java_home: java } } });
}
/** the content a file/unit op writes on a host where it does not exist yet */

describe("schema-registry: defaults are the seeds' values", () => {
  it('7.8.0 on 8085, store _schemas, leader-eligible, 1g of the 2 GB per instance', () => {
    expect(DEFAULTS).toMatchObject({
      schema_registry_version: '7.8.0',
      schema_registry_port: 8085,
      schema_registry_topic: '_schemas',
      schema_registry_group_id: 'schema-registry',
      schema_registry_leader_eligibility: true,
      schema_registry_kafka_group: 'kafka',
      schema_registry_kafka_port: 9092,
      schema_registry_heap: '1g',
      schema_registry_limit_nofile: 100000,
      schema_registry_sha512: '',
      schema_registry_sha256: '',
    });
    expect(role.declares!(ctx())).toEqual({
      ports: [{ port: 8085, variable: 'schema_registry_port', description: 'Schema Registry REST API' }],
      memoryMb: 2048,
      cpus: 1,
      serves: ['schema_registry'],
    });
    expect(role.doc).toMatch(/FIXTURE/);
    expect(role.doc).toMatch(/schema_registry_sha512/);
  });

  it("Confluent's community archive: official URL, the archive's top dir, a mirror keeps the path", () => {
    const rel = confluentRelease('7.8.0');
    expect(`${rel.base}${rel.path}`).toBe('https://packages.confluent.io/archive/7.8/confluent-community-7.8.0.tar.gz');
    expect(rel.topDir).toBe('confluent-7.8.0');
    expect(rel.sha512).toBeUndefined();
    expect(rel.sha256).toBeUndefined();
    expect(artifactSource(rel, { mirror: 'https://mirror.example/confluent', sha256: 'cd'.repeat(32) })).toEqual({
      url: 'https://mirror.example/confluent/archive/7.8/confluent-community-7.8.0.tar.gz',
      sha256: 'cd'.repeat(32),
      fileName: 'confluent-community-7.8.0.tar.gz',
    });
    expect(() => confluentRelease('7.8')).toThrow(/MAJOR.MINOR.PATCH/);
  });
});

describe('schema-registry.properties', () => {
  it("renders datalyptica-minimal-5vm.md's VM1: the three brokers, replication factor 3", () => {
    const store = kafkaStore(DEFAULTS, MINIMAL);
    expect(store).toEqual({ bootstrap: 'PLAINTEXT://10.20.0.11:9092,PLAINTEXT://10.20.0.12:9092,PLAINTEXT://10.20.0.13:9092', brokers: 3, replicationFactor: 3 });
    expect(schemaRegistryProperties(DEFAULTS, '10.20.0.11', store)).toBe(
      [
        '# Managed by orch (role schema-registry): edits here are overwritten',
        'listeners=http://0.0.0.0:8085',
        'host.name=10.20.0.11',
        '',
        '# Kafka store',
        'kafkastore.bootstrap.servers=PLAINTEXT://10.20.0.11:9092,PLAINTEXT://10.20.0.12:9092,PLAINTEXT://10.20.0.13:9092',
        'kafkastore.topic=_schemas',
        'kafkastore.topic.replication.factor=3',
        '',
        '# Leader election among the instances of the group id',
        'schema.registry.group.id=schema-registry',
        'leader.eligibility=true',
        '',
      ].join('\n'),
    );
  });

  it("enterprise-50vm: schema02 on kafka01-05 (split controllers count as brokers when they are broker,controller)", () => {
    const peers = ENTERPRISE.map((p) => (p.name === 'kafka01' ? { ...p, vars: { ...p.vars, kafka_process_roles: 'controller' } } : p));
    const out = role.operations(ctx({ host: 'schema02', peers }));
    const props = written(named(out, 'file', '/etc/schema-registry/schema-registry.properties'));
    expect(props).toContain('\nhost.name=10.20.20.22\n');
    expect(props).toContain('\nkafkastore.bootstrap.servers=PLAINTEXT://10.20.20.12:9092,PLAINTEXT://10.20.20.13:9092,PLAINTEXT://10.20.20.14:9092,PLAINTEXT://10.20.20.15:9092\n');
    expect(props).toContain('\nkafkastore.topic.replication.factor=3\n');
  });

  it("takes a broker's kafka_port and the cluster's kafka_default_replication_factor; one broker: replication factor 1", () => {
    const peers = MINIMAL.map((p) => ({ ...p, vars: { ...p.vars, kafka_port: 19092, kafka_default_replication_factor: 2 } }));
    expect(kafkaStore(DEFAULTS, peers)).toEqual({ bootstrap: 'PLAINTEXT://10.20.0.11:19092,PLAINTEXT://10.20.0.12:19092,PLAINTEXT://10.20.0.13:19092', brokers: 3, replicationFactor: 2 });
    expect(kafkaStore({ ...DEFAULTS, schema_registry_replication_factor: 1 }, peers).replicationFactor).toBe(1);
    expect(kafkaStore(DEFAULTS, MINIMAL.slice(0, 1))).toEqual({ bootstrap: 'PLAINTEXT://10.20.0.11:9092', brokers: 1, replicationFactor: 1 });
  });

  it('adds schema_registry_extra_properties sorted, and a changed port and group id', () => {
    const v = { ...DEFAULTS, schema_registry_port: 8081, schema_registry_group_id: 'sr-dc1', schema_registry_leader_eligibility: false, schema_registry_extra_properties: { 'schema.compatibility.level': 'full', 'debug': false } };
    const out = schemaRegistryProperties(v, 'h', kafkaStore(v, MINIMAL)).split('\n');
    expect(out).toContain('listeners=http://0.0.0.0:8081');
    expect(out).toContain('schema.registry.group.id=sr-dc1');
    expect(out).toContain('leader.eligibility=false');
    expect(out.slice(-4)).toEqual(['# From the inventory (schema_registry_extra_properties)', 'debug=false', 'schema.compatibility.level=full', '']);
  });
});

describe('schema-registry: offline checks', () => {
  it('requires the archive checksum from the inventory (none is published to pin), and brokers to store in', () => {
    const [p] = problems(DEFAULTS, MINIMAL);
    expect(p).toMatch(/^schema_registry_sha512 \(or schema_registry_sha256\) is required/);
    expect(p).toContain('https://packages.confluent.io/archive/7.8/confluent-community-7.8.0.tar.gz');
    expect(problems({ ...DEFAULTS, schema_registry_sha512: SHA512 }, MINIMAL)).toEqual([]);
    expect(problems({ ...DEFAULTS, schema_registry_sha256: 'cd'.repeat(32) }, MINIMAL)).toEqual([]);
    expect(problems({ ...DEFAULTS, schema_registry_sha512: SHA512 }, [])).toEqual([
      'group kafka has no Kafka broker: kafkastore.bootstrap.servers comes from its hosts (set schema_registry_kafka_group to the brokers\' group)',
    ]);
    expect(problems({ ...DEFAULTS, schema_registry_sha512: SHA512, schema_registry_replication_factor: 3 }, MINIMAL.slice(0, 2))).toEqual([
      'kafkastore.topic.replication.factor 3 is more than the 2 broker(s) of group kafka: lower schema_registry_replication_factor',
    ]);
    expect(role.validate!({ ...ctx(), vars: DEFAULTS } as never)).toHaveLength(1);
    expect(() => role.operations({ ...ctx(), vars: DEFAULTS })).toThrow(/schema_registry_sha512/);
  });
});

describe('schema-registry: install and unit', () => {
  it("installs the archive under /opt/confluent, runs bin/schema-registry-start on /etc/schema-registry as cp-schema-registry", () => {
    const out = role.operations(ctx());
    expect(out.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'group confluent',
      'user cp-schema-registry',
      'artifact /opt/confluent/releases/7.8.0',
      'dir /etc/schema-registry',
      'dir /var/log/confluent',
      'dir /var/log/confluent/schema-registry',
      'file /etc/schema-registry/schema-registry.properties',
      'unit /etc/systemd/system/confluent-schema-registry.service',
      'service confluent-schema-registry.service',
      'waitForHttp http://10.20.0.11:8085/',
      'health Schema Registry answers GET / and GET /subjects (store _schemas on 3 broker(s), replication factor 3)',
    ]);
    const unit = written(named(out, 'unit'));
    expect(unit).toBe(unitFile(DEFAULTS, '/usr/lib/jvm/java-17-openjdk-amd64', '/opt/confluent/current'));
    for (const line of [
      'User=cp-schema-registry',
      'Group=confluent',
      'Environment=JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64',
      'Environment="SCHEMA_REGISTRY_HEAP_OPTS=-Xms1g -Xmx1g"',
      'Environment=LOG_DIR=/var/log/confluent/schema-registry',
      'ExecStart=/opt/confluent/current/bin/schema-registry-start /etc/schema-registry/schema-registry.properties',
      'LimitNOFILE=100000',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  it("RHEL: the same archive and paths, the JRE of RHEL's OpenJDK package", () => {
    const unit = written(named(role.operations(ctx({ osFamily: 'redhat' })), 'unit'));
    expect(unit).toContain('\nEnvironment=JAVA_HOME=/usr/lib/jvm/jre-17-openjdk\n');
    expect(unit).toContain('\nExecStart=/opt/confluent/current/bin/schema-registry-start /etc/schema-registry/schema-registry.properties\n');
  });

  it('a resource limit of the inventory becomes MemoryMax=/CPUQuota= of the unit', () => {
    const peers = MINIMAL.map((p) => (p.name === 'vm1' ? { ...p, vars: { ...p.vars, resource_limits: { 'confluent-schema-registry': { memory_mb: 2048, cpus: 1 } } } } : p));
    const unit = written(named(role.operations(ctx({ peers })), 'unit'));
    expect(unit).toMatch(/\nMemoryMax=2048M\n/);
    expect(unit).toMatch(/\nCPUQuota=100%\n/);
  });

  it('rolls restarts one instance at a time behind the health check', () => {
    const r = role.rollout!(ctx());
    expect(r.services).toEqual(['confluent-schema-registry']);
    expect(r.health.command).toBe(healthCommand('10.20.0.11', 8085));
    expect(r.serial).toBeUndefined();
  });
});

describe('schema-registry health command', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  async function serve(subjects: string | null): Promise<number> {
    server = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200).end('{}');
      else if (req.url === '/subjects' && subjects !== null) res.writeHead(200).end(subjects);
      else res.writeHead(500).end('{"error_code":50001}');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as { port: number }).port;
  }

  it('passes when GET / answers and GET /subjects is a JSON array', async () => {
    expect((await shAsync(healthCommand('127.0.0.1', await serve('["orders-value"]')))).code).toBe(0);
  });
  it('fails when /subjects is not JSON, fails, or nothing answers', async () => {
    const html = await shAsync(healthCommand('127.0.0.1', await serve('<html>starting</html>')));
    expect(html).toEqual({ code: 1, stdout: 'GET /subjects is not a JSON array: <html>starting</html>\n' });
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const port = await serve(null);
    expect((await shAsync(healthCommand('127.0.0.1', port))).stdout).toBe(`GET http://127.0.0.1:${port}/subjects failed\n`);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect((await shAsync(healthCommand('127.0.0.1', port))).stdout).toBe(`GET http://127.0.0.1:${port}/ does not answer\n`);
  });
});
