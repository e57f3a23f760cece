/**
 * The kafka role (ZooKeeper mode) offline, against spark-kafka-cluster-aws.md's "Apache Kafka" section: its
 * server.properties and kafka.service for the master node (broker 1, ZooKeeper on the same host), several brokers
 * against an ensemble, broker ids checked offline, RHEL's Java home in the unit, and the ZooKeeper health commands
 * with a stand-in zookeeper-shell.sh printing what Kafka 3.6's prints. The real thing: test/integration/role-kafka.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import kafka from '../../roles/kafka/index.js';
import { brokerIdProblems, brokers, brokersRegistered, isController, replicationFactor, zookeeperConnect } from '../../roles/kafka/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import type { Plan } from '../../src/ops/types.js';
import { sh, tmp } from './ops-harness.js';
import { named, properties, roleContext, written } from './role-harness.js';

// spark-kafka-cluster-aws.md, "Configuration File: /opt/kafka/config/server.properties", comments dropped
const SEED_PROPERTIES = {
  'broker.id': '1',
  listeners: 'PLAINTEXT://:9092',
  'advertised.listeners': 'PLAINTEXT://10.0.136.17:9092',
  'num.network.threads': '3',
  'num.io.threads': '8',
  'log.dirs': '/var/lib/kafka-logs',
  'num.partitions': '1',
  'num.recovery.threads.per.data.dir': '1',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'log.retention.hours': '168',
  'log.segment.bytes': '1073741824',
  'zookeeper.connect': 'localhost:2181',
  'zookeeper.connection.timeout.ms': '18000',
};

/** the seed's master: ZooKeeper and the broker on 10.0.136.17, no node_id (a single broker is 1) */
const MASTER: PeerHost[] = [{ name: 'master', address: '10.0.136.17', groups: ['zookeeper', 'kafka'], vars: { zookeeper_user: 'spark' } }];
/** three brokers against a three-server ensemble on other hosts, one with its own client port */
const CLUSTER: PeerHost[] = [
  ...[1, 2, 3].map((n) => ({ name: `zk${n}`, address: `192.0.2.${n}`, groups: ['zookeeper'], vars: { node_id: n, zookeeper_client_port: n === 3 ? 2182 : 2181 } })),
  ...[1, 2, 3].map((n) => ({ name: `b${n}`, address: `192.0.2.${10 + n}`, groups: ['kafka'], vars: { node_id: 10 + n } })),
];

function ctx(o: { host?: string; peers?: PeerHost[]; osFamily?: HostFacts['osFamily']; vars?: Record<string, unknown> } = {}): RoleContext<any> {
  const java = o.osFamily === 'redhat' ? '/usr/lib/jvm/jre-11-openjdk' : '/usr/lib/jvm/java-11-openjdk-amd64';
  return roleContext(kafka, { peers: o.peers ?? MASTER, host: o.host, facts: { osFamily: o.osFamily ?? 'debian', osId: o.osFamily === 'redhat' ? 'rhel' : 'ubuntu', cpus: 2, memoryMb: 4096 }, vars: o.vars, exported: { java: { java_home: java } } });
}

describe("kafka role (ZooKeeper mode): the seed's master node", () => {
  const list = kafka.operations(ctx());

  it("server.properties has exactly the seed's values, in the seed's order", () => {
    const cfg = written(named(list, 'file', '/etc/kafka/server.properties'));
    expect(properties(cfg)).toEqual(SEED_PROPERTIES);
    expect(cfg.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('=')[0])).toEqual(Object.keys(SEED_PROPERTIES));
  });

  it("kafka.service: after and requiring zookeeper.service, user spark, the seed's heap, LimitNOFILE", () => {
    const unit = written(named(list, 'unit'));
    expect(unit).toContain('After=network-online.target zookeeper.service\nRequires=zookeeper.service\n');
    expect(unit).toContain('User=spark\nGroup=spark\n');
    expect(unit).toContain('Environment="KAFKA_HEAP_OPTS=-Xmx1G -Xms1G"\n');
    expect(unit).toContain('Environment=JAVA_HOME=/usr/lib/jvm/java-11-openjdk-amd64\n');
    expect(unit).toContain('ExecStart=/opt/kafka/current/bin/kafka-server-start.sh /etc/kafka/server.properties\n');
    expect(unit).toContain('Restart=on-failure\n');
    expect(unit).toContain('LimitNOFILE=100000\n');
    expect(unit).not.toContain('ExecStop');
    const wants = written(named(kafka.operations(ctx({ vars: { kafka_zookeeper_unit_dependency: 'wants' } })), 'unit'));
    expect(wants).toContain('Wants=network-online.target zookeeper.service\nAfter=network-online.target zookeeper.service\n');
    expect(wants).not.toContain('Requires=');
  });

  it("installs Kafka 3.6.1 (Scala 2.13) from the catalogue under /opt/kafka, log dir owned by spark; the zookeeper role makes the user", () => {
    const art = named(list, 'artifact')!;
    expect(art.name).toContain('/opt/kafka/releases/3.6.1');
    const plan = art.plan({ marker: null, dest: null, link: { kind: 'absent' } } as never) as Extract<Plan, { status: 'change' }>;
    expect(plan.script).toContain('kafka_2.13-3.6.1');
    expect(named(list, 'dir', '/var/lib/kafka-logs')).toBeDefined();
    // the zookeeper role of this host creates the seed's spark user; on a host without it, this role does
    expect(named(list, 'user')).toBeUndefined();
    expect(named(kafka.operations(ctx({ peers: CLUSTER, host: 'b1' })), 'user', 'spark')).toBeDefined();
  });

  it('declares the broker port, heap plus headroom and the log dirs', () => {
    const d = kafka.declares!(ctx() as never);
    expect(d.ports).toEqual([{ port: 9092, variable: 'kafka_port', description: 'Kafka broker (PLAINTEXT)' }]);
    expect(d.memoryMb).toBe(2048);
    expect(d.dataDirs).toEqual(['/var/lib/kafka-logs']);
  });
});

describe('kafka role: several brokers against an ensemble', () => {
  it('zookeeper.connect lists the ensemble at each client port; no unit dependency on another host; replication min(3, brokers)', () => {
    const list = kafka.operations(ctx({ peers: CLUSTER, host: 'b2' }));
    const p = properties(written(named(list, 'file', '/etc/kafka/server.properties')));
    expect(p['zookeeper.connect']).toBe('192.0.2.1:2181,192.0.2.2:2181,192.0.2.3:2182');
    expect(p['broker.id']).toBe('12');
    expect(p['advertised.listeners']).toBe('PLAINTEXT://192.0.2.12:9092');
    expect(p['default.replication.factor']).toBe('3');
    expect(p['offsets.topic.replication.factor']).toBe('3');
    expect(p['transaction.state.log.min.isr']).toBe('2');
    const unit = written(named(list, 'unit'));
    expect(unit).toContain('After=network-online.target\n');
    expect(unit).not.toContain('zookeeper.service');
  });

  it('a chroot, an explicit connect string, two brokers', () => {
    const zk = CLUSTER.filter((p) => p.groups.includes('zookeeper'));
    expect(zookeeperConnect({ kafka_zookeeper_connect: '', kafka_zookeeper_chroot: '/kafka' }, zk, 'b1')).toBe('192.0.2.1:2181,192.0.2.2:2181,192.0.2.3:2182/kafka');
    expect(zookeeperConnect({ kafka_zookeeper_connect: 'zk.example:2181/x', kafka_zookeeper_chroot: '' }, zk, 'b1')).toBe('zk.example:2181/x');
    // the ensemble is this host alone: the seed's localhost
    expect(zookeeperConnect({ kafka_zookeeper_connect: '', kafka_zookeeper_chroot: '' }, MASTER, 'master')).toBe('localhost:2181');
    expect(replicationFactor({ kafka_default_replication_factor: 0 }, 2)).toBe(2);
    expect(replicationFactor({ kafka_default_replication_factor: 0 }, 5)).toBe(3);
  });

  it('validate: broker ids present and unique, the host in the kafka group, ZooKeeper known', () => {
    expect(kafka.validate!(ctx() as never)).toEqual([]);
    expect(kafka.validate!(ctx({ peers: CLUSTER, host: 'b1' }) as never)).toEqual([]);
    const dup = CLUSTER.map((p) => (p.name === 'b3' ? { ...p, vars: { node_id: 11 } } : p));
    expect(kafka.validate!(ctx({ peers: dup, host: 'b1' }) as never)).toEqual(['hosts b1 and b3 have the same Kafka broker.id 11 (group kafka): give each host its own node_id or kafka_broker_id']);
    const noId = CLUSTER.map((p) => (p.name === 'b3' ? { ...p, vars: {} } : p));
    expect(brokerIdProblems(brokers(noId.filter((p) => p.groups.includes('kafka'))), 'kafka')).toEqual(['host b3 of group kafka has no Kafka broker id: set node_id (or kafka_broker_id) in its host variables']);
    const noZk = CLUSTER.filter((p) => p.groups.includes('kafka'));
    expect(kafka.validate!(ctx({ peers: noZk, host: 'b1' }) as never)).toEqual([
      'kafka (ZooKeeper mode) needs ZooKeeper: the inventory group zookeeper is empty; add the ensemble\'s hosts to it (role zookeeper) or set kafka_zookeeper_connect',
    ]);
    expect(kafka.validate!(ctx({ peers: noZk, host: 'b1', vars: { kafka_zookeeper_connect: 'zk:2181' } }) as never)).toEqual([]);
    expect(brokers([{ name: 'a', address: 'a', groups: [], vars: { node_id: 4, kafka_broker_id: 9 } }])[0].id).toBe(9);
  });

  it("RHEL: the unit runs the JRE of RHEL's java-11-openjdk", () => {
    const unit = written(named(kafka.operations(ctx({ osFamily: 'redhat' })), 'unit'));
    expect(unit).toContain('Environment=JAVA_HOME=/usr/lib/jvm/jre-11-openjdk\n');
  });
});

describe('kafka role: ZooKeeper health commands', () => {
  /** a release whose zookeeper-shell.sh prints what Kafka 3.6.1's prints for ls /brokers/ids and get /controller */
  function fakeHome(ids: string, controller: string) {
    const home = tmp();
    mkdirSync(join(home, 'bin'));
    writeFileSync(
      join(home, 'bin', 'zookeeper-shell.sh'),
      `#!/bin/sh\n[ "$1" = zk1:2181 ] || exit 3\necho "Connecting to $1"\necho\necho "WATCHER::"\necho\necho "WatchedEvent state:SyncConnected type:None path:null"\ncase "$2 $3" in\n"ls /brokers/ids") echo '${ids}' ;;\n"get /controller") echo '${controller}' ;;\nesac\n`,
    );
    chmodSync(join(home, 'bin', 'zookeeper-shell.sh'), 0o755);
    return home;
  }
  const CONTROLLER = '{"version":2,"brokerid":2,"timestamp":"1733130000000","kraftControllerEpoch":-1}';

  it('passes when every broker is registered under /brokers/ids, and says which is missing', () => {
    expect(sh(brokersRegistered(fakeHome('[1, 2, 3]', CONTROLLER), 'X=1', 'zk1:2181', [1, 2, 3])).code).toBe(0);
    const missing = sh(brokersRegistered(fakeHome('[1, 3]', CONTROLLER), 'X=1', 'zk1:2181', [1, 2, 3]));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('broker 2 is not registered in ZooKeeper under /brokers/ids (registered: 1 3)');
    expect(sh(brokersRegistered(fakeHome('[]', CONTROLLER), 'X=1', 'zk1:2181', [1])).code).toBe(1);
    // broker 1 is not broker 11
    expect(sh(brokersRegistered(fakeHome('[11]', CONTROLLER), 'X=1', 'zk1:2181', [1])).code).toBe(1);
  });

  it('the controller is the broker /controller names', () => {
    expect(sh(isController(fakeHome('[1, 2]', CONTROLLER), 'X=1', 'zk1:2181', 2)).code).toBe(0);
    expect(sh(isController(fakeHome('[1, 2]', CONTROLLER), 'X=1', 'zk1:2181', 1)).code).toBe(1);
    expect(sh(isController(fakeHome('[1, 2]', '{"version":2,"brokerid":22,"timestamp":"1"}'), 'X=1', 'zk1:2181', 2)).code).toBe(1);
  });
});
