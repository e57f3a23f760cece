/**
 * The kafka-connect role offline: connect-distributed.properties for datalyptica-minimal-5vm.md's worker on VM5
 * (8083, brokers VM1-3) and datalyptica-enterprise-50vm.md's 3 workers (5 brokers), the unit, RHEL's Java home,
 * declarations, validate, and the REST health command against a stand-in curl. The real worker and a FileStream
 * connector: test/integration/role-kafka-connect.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import connect from '../../roles/kafka-connect/index.js';
import { bootstrapServers, restHealthy, topicReplication } from '../../roles/kafka-connect/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import { sh, tmp } from './ops-harness.js';
import { named, properties, roleContext, written } from './role-harness.js';

/** inventories/minimal-5vm: kafka on vm1-3 (control plane), kafka_connect on vm5 */
const MINIMAL: PeerHost[] = [
  ...[1, 2, 3].map((n) => ({ name: `vm${n}`, address: `10.20.0.1${n}`, groups: ['control_plane', 'kafka'], vars: { node_id: n } })),
  { name: 'vm5', address: '10.20.0.22', groups: ['data_plane', 'kafka_connect'], vars: { node_id: 5 } },
];
/** datalyptica-enterprise-50vm.md: kafka01-05, connect01-03 (10.20.20.31-33) */
const ENTERPRISE: PeerHost[] = [
  ...[1, 2, 3, 4, 5].map((n) => ({ name: `kafka0${n}`, address: `10.20.20.1${n}`, groups: ['kafka'], vars: { node_id: n, kafka_port: 9092 } })),
  ...[1, 2, 3].map((n) => ({ name: `connect0${n}`, address: `10.20.20.3${n}`, groups: ['kafka_connect'], vars: {} })),
];

function ctx(o: { host?: string; peers?: PeerHost[]; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown> } = {}): RoleContext<any> {
  const java = o.osFamily === 'redhat' ? '/usr/lib/jvm/jre-17-openjdk' : '/usr/lib/jvm/java-17-openjdk-amd64';
  return roleContext(connect, { peers: o.peers ?? MINIMAL, host: o.host ?? 'vm5', facts: { osFamily: o.osFamily ?? 'debian', cpus: 64, memoryMb: 256 * 1024 }, vars: o.vars, exported: { java: { java_home: java } } });
}
const CONFIG = '/etc/kafka-connect/connect-distributed.properties';

describe("kafka-connect: datalyptica-minimal-5vm.md's worker on VM5", () => {
  const list = connect.operations(ctx());

  it('connect-distributed.properties: brokers of the kafka group, the group id, internal topics replicated 3, converters, plugin.path, REST on 8083', () => {
    expect(properties(written(named(list, 'file', CONFIG)))).toEqual({
      'bootstrap.servers': '10.20.0.11:9092,10.20.0.12:9092,10.20.0.13:9092',
      'group.id': 'connect-cluster',
      listeners: 'HTTP://:8083',
      'rest.advertised.host.name': '10.20.0.22',
      'rest.advertised.port': '8083',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
      'config.storage.topic': 'connect-configs',
      'config.storage.replication.factor': '3',
      'offset.storage.topic': 'connect-offsets',
      'offset.storage.replication.factor': '3',
      'offset.storage.partitions': '25',
      'status.storage.topic': 'connect-status',
      'status.storage.replication.factor': '3',
      'status.storage.partitions': '5',
      'offset.flush.interval.ms': '10000',
      'plugin.path': '/opt/kafka-connect/plugins',
    });
  });

  it("the unit runs Connect's distributed main of Kafka 3.9.0 as kafka-connect, heap 2g, LimitNOFILE", () => {
    const unit = written(named(list, 'unit'));
    expect(unit).toContain('Description=Kafka Connect 3.9.0 (distributed worker)\n');
    expect(unit).toContain('User=kafka-connect\nGroup=kafka-connect\n');
    expect(unit).toContain('Environment="KAFKA_HEAP_OPTS=-Xms2g -Xmx2g"\n');
    expect(unit).toContain('Environment=LOG_DIR=/var/log/kafka-connect\n');
    expect(unit).toContain(`ExecStart=/opt/kafka-connect/current/bin/connect-distributed.sh ${CONFIG}\n`);
    expect(unit).toContain('LimitNOFILE=100000\n');
    const art = named(list, 'artifact')!;
    expect(art.name).toContain('/opt/kafka-connect/releases/3.9.0');
    expect(named(list, 'dir', '/opt/kafka-connect/plugins')).toBeDefined();
  });

  it('declares 8083 and the seed\'s 4 GB', () => {
    const d = connect.declares!(ctx() as never);
    expect(d.ports).toEqual([{ port: 8083, variable: 'kafka_connect_port', description: 'Kafka Connect REST API' }]);
    expect(d.memoryMb).toBe(4096);
    expect(d.serves).toEqual(['kafka_connect']);
  });

  it('RHEL: the JRE of java-17-openjdk', () => {
    expect(written(named(connect.operations(ctx({ osFamily: 'redhat' })), 'unit'))).toContain('Environment=JAVA_HOME=/usr/lib/jvm/jre-17-openjdk\n');
  });
});

describe("kafka-connect: datalyptica-enterprise-50vm.md's 3 workers", () => {
  it('every worker bootstraps from the 5 brokers and advertises its own address', () => {
    for (const [i, h] of ['connect01', 'connect02', 'connect03'].entries()) {
      const p = properties(written(named(connect.operations(ctx({ peers: ENTERPRISE, host: h })), 'file', CONFIG)));
      expect(p['bootstrap.servers']).toBe('10.20.20.11:9092,10.20.20.12:9092,10.20.20.13:9092,10.20.20.14:9092,10.20.20.15:9092');
      expect(p['rest.advertised.host.name']).toBe(`10.20.20.3${i + 1}`);
      expect(p['group.id']).toBe('connect-cluster');
      expect(p['status.storage.replication.factor']).toBe('3');
    }
  });

  it('a single broker replicates once; the inventory wins; the FileStream connectors join plugin.path; extra properties are appended', () => {
    expect(topicReplication({ kafka_connect_replication_factor: 0 }, 1)).toBe(1);
    expect(topicReplication({ kafka_connect_replication_factor: 0 }, 2)).toBe(2);
    expect(topicReplication({ kafka_connect_replication_factor: 2 }, 5)).toBe(2);
    expect(bootstrapServers({ kafka_connect_bootstrap_servers: ['k.example:9094'] }, ENTERPRISE)).toEqual(['k.example:9094']);
    const out = written(named(connect.operations(ctx({ vars: { kafka_connect_file_connectors: true, kafka_connect_extra_properties: { 'producer.compression.type': 'lz4' } } })), 'file', CONFIG));
    expect(properties(out)['plugin.path']).toBe('/opt/kafka-connect/plugins,/opt/kafka-connect/current/libs/connect-file-3.9.0.jar');
    expect(out.endsWith('# From the inventory (kafka_connect_extra_properties)\nproducer.compression.type=lz4\n')).toBe(true);
  });

  it('validate: the host is a worker of the group, and brokers are known', () => {
    expect(connect.validate!(ctx() as never)).toEqual([]);
    expect(connect.validate!(ctx({ host: 'vm1' }) as never)).toEqual(['host vm1 runs kafka-connect but is not in the inventory group kafka_connect, whose hosts are the workers']);
    const noBrokers = MINIMAL.filter((p) => !p.groups.includes('kafka'));
    expect(connect.validate!(ctx({ peers: noBrokers }) as never)).toEqual([
      'kafka-connect needs brokers: the inventory group kafka is empty; add the brokers to it or set kafka_connect_bootstrap_servers',
    ]);
  });
});

describe('kafka-connect REST health', () => {
  /** a curl on PATH answering / and /connectors as given (empty: connection refused, exit 7) */
  function withCurl(root: string, connectors: string) {
    const dir = tmp();
    mkdirSync(join(dir, 'bin'));
    const answer = (body: string) => (body ? `printf '%s' '${body}'; exit 0` : "echo 'curl: (7) Failed to connect' >&2; exit 7");
    writeFileSync(join(dir, 'bin', 'curl'), `#!/bin/sh\nfor a in "$@"; do url=$a; done\ncase $url in\n*/connectors) ${answer(connectors)} ;;\n*/) ${answer(root)} ;;\nesac\nexit 22\n`);
    chmodSync(join(dir, 'bin', 'curl'), 0o755);
    return `PATH=${join(dir, 'bin')}:$PATH\n`;
  }
  const ROOT = '{"version":"3.9.0","commit":"a60e31147e6b01ee","kafka_cluster_id":"MkU3OEVBNTcwNTJENDM2Qg"}';

  it('passes when / names the Kafka cluster and /connectors is a list', () => {
    expect(sh(withCurl(ROOT, '[]') + restHealthy('10.20.0.22', 8083)).code).toBe(0);
    expect(sh(withCurl(ROOT, '["files"]') + restHealthy('10.20.0.22', 8083)).code).toBe(0);
  });

  it('fails, saying why, while the worker is down or has not joined its group', () => {
    const down = sh(withCurl('', '') + restHealthy('10.20.0.22', 8083));
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('GET / : curl: (7) Failed to connect');
    const joining = sh(withCurl(ROOT, '') + restHealthy('10.20.0.22', 8083));
    expect(joining.code).toBe(1);
    expect(joining.stdout).toContain('GET /connectors');
    const odd = sh(withCurl(ROOT, '{"error_code":409}') + restHealthy('10.20.0.22', 8083));
    expect(odd.stdout).toContain('GET /connectors answered no list');
  });
});
