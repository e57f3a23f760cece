import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import role from '../../roles/kafka-kraft/index.js';
import {
  brokerBackInIsr,
  clusterNodes,
  layoutProblems,
  newClusterId,
  quorumHealthy,
  quorumVoters,
  readClusterId,
  serverProperties,
  unitFile,
  CLUSTER_ID,
  type KafkaVars,
} from '../../roles/kafka-kraft/render.js';
import type { PeerHost } from '../../src/role/define.js';
import { sh, tmp } from './ops-harness.js';

const DEFAULTS = Object.fromEntries(Object.entries(role.vars).map(([k, s]) => [k, s.default])) as unknown as KafkaVars;

/** datalyptica-enterprise-50vm.md: kafka01-05, controllers on 01-03 */
const enterprise: PeerHost[] = [1, 2, 3, 4, 5].map((i) => ({
  name: `kafka0${i}`,
  address: `kafka0${i}`,
  groups: ['all', 'kafka'],
  vars: { node_id: i, kafka_process_roles: i <= 3 ? 'broker,controller' : 'broker' },
}));

describe('kafka-kraft server.properties', () => {
  it("renders datalyptica-enterprise-50vm.md's Kafka Configuration for a controller node", () => {
    const nodes = clusterNodes(enterprise);
    const out = serverProperties(DEFAULTS, nodes[0], nodes);
    const lines = out.split('\n');
    for (const want of [
      'process.roles=broker,controller',
      'node.id=1',
      'controller.quorum.voters=1@kafka01:9093,2@kafka02:9093,3@kafka03:9093',
      'listeners=PLAINTEXT://kafka01:9092,CONTROLLER://kafka01:9093',
      'advertised.listeners=PLAINTEXT://kafka01:9092',
      'default.replication.factor=3',
      'min.insync.replicas=2',
      'unclean.leader.election.enable=false',
      'num.network.threads=8',
      'num.io.threads=16',
      'socket.send.buffer.bytes=1048576',
      'socket.receive.buffer.bytes=1048576',
      'log.dirs=/data/kafka/logs',
      'log.retention.hours=168',
      'log.segment.bytes=1073741824',
      'log.retention.check.interval.ms=300000',
      'compression.type=lz4',
      'offsets.topic.replication.factor=3',
      'transaction.state.log.min.isr=2',
    ]) {
      expect(lines).toContain(want);
    }
  });

  it('a broker-only node has no controller listener, and knows the quorum', () => {
    const nodes = clusterNodes(enterprise);
    const out = serverProperties(DEFAULTS, nodes[4], nodes);
    expect(out).toContain('process.roles=broker\nnode.id=5\n');
    expect(out).toContain('listeners=PLAINTEXT://kafka05:9092\n');
    expect(out).not.toContain('CONTROLLER://kafka05');
    expect(out).toContain('controller.quorum.voters=1@kafka01:9093,2@kafka02:9093,3@kafka03:9093\n');
  });

  it("a single broker gets replication factor 1 and flink-kafka-4vcpu-8gb.md's topic settings", () => {
    const one = clusterNodes([{ name: 'flink1', address: '192.0.2.10', groups: ['kafka'], vars: { node_id: 1 } }]);
    const out = serverProperties(DEFAULTS, one[0], one);
    for (const want of ['default.replication.factor=1', 'min.insync.replicas=1', 'offsets.topic.replication.factor=1', 'num.partitions=6', 'log.retention.hours=24', 'log.segment.bytes=1073741824']) {
      expect(out.split('\n')).toContain(want);
    }
    expect(quorumVoters(one, 9093)).toBe('1@192.0.2.10:9093');
  });

  it('inventory settings win over the automatic ones, extra properties are appended sorted', () => {
    const nodes = clusterNodes(enterprise);
    const out = serverProperties({ ...DEFAULTS, kafka_default_replication_factor: 2, kafka_num_partitions: 24, kafka_extra_properties: { 'zz.b': 1, 'aa.a': true } }, nodes[0], nodes);
    expect(out).toContain('default.replication.factor=2\n');
    expect(out).toContain('num.partitions=24\n');
    expect(out.endsWith('# From the inventory (kafka_extra_properties)\naa.a=true\nzz.b=1\n')).toBe(true);
  });
});

describe('kafka-kraft layout', () => {
  it('flags missing and duplicate node ids, and a cluster without controllers', () => {
    const dup = enterprise.map((p, i) => ({ ...p, vars: { ...p.vars, node_id: i === 4 ? 1 : p.vars.node_id } }));
    expect(layoutProblems(clusterNodes(dup), 'kafka')).toEqual(['Kafka node id 1 is used by kafka01 and kafka05 (group kafka): node ids must be unique; give each host its own node_id']);
    const none = [{ name: 'x', address: 'x', groups: ['kafka'], vars: { kafka_process_roles: 'broker' } }];
    expect(layoutProblems(clusterNodes(none), 'kafka')).toEqual([
      'host x of group kafka has no Kafka node id: set node_id (or kafka_node_id) in its host variables',
      'group kafka has no KRaft controller: set kafka_process_roles to broker,controller (or controller) on 1, 3 or 5 of its hosts',
    ]);
    expect(layoutProblems(clusterNodes(enterprise), 'kafka')).toEqual([]);
  });

  it('kafka_node_id overrides node_id', () => {
    expect(clusterNodes([{ name: 'a', address: 'a', groups: [], vars: { node_id: 4, kafka_node_id: 11 } }])[0].id).toBe(11);
  });
});

describe('kafka-kraft unit and ids', () => {
  it('the unit runs the release as the service user with the heap and LimitNOFILE', () => {
    const u = unitFile(DEFAULTS, '/usr/lib/jvm/java-17-openjdk-amd64', '/opt/kafka/current', '/etc/kafka/server.properties');
    expect(u).toContain('User=kafka\n');
    expect(u).toContain('Environment="KAFKA_HEAP_OPTS=-Xms16g -Xmx16g"\n');
    expect(u).toContain('ExecStart=/opt/kafka/current/bin/kafka-server-start.sh /etc/kafka/server.properties\n');
    expect(u).toContain('LimitNOFILE=100000\n');
  });

  it('cluster ids look like kafka-storage random-uuid, and a leading hyphen is quoted as an argument', () => {
    for (let i = 0; i < 50; i++) expect(newClusterId()).toMatch(CLUSTER_ID);
    const d = tmp();
    mkdirSync(join(d, 'a'));
    mkdirSync(join(d, 'b'));
    writeFileSync(join(d, 'a', 'meta.properties'), 'version=1\ncluster.id=-kU3OEVBNTcwNTJENDM2Qg\nnode.id=1\n');
    writeFileSync(join(d, 'b', 'meta.properties'), 'version=1\ncluster.id=-kU3OEVBNTcwNTJENDM2Qg\nnode.id=1\n');
    expect(sh(readClusterId([join(d, 'a'), join(d, 'b'), join(d, 'c')])).stdout).toBe('-kU3OEVBNTcwNTJENDM2Qg\n');
  });
});

describe('kafka-kraft health commands', () => {
  /** a fake release whose metadata-quorum and topics tools print what Kafka 3.9 prints */
  function fakeHome(status: string, replication: string, urp = '') {
    const home = tmp();
    mkdirSync(join(home, 'bin'));
    const tool = (name: string, body: string) => {
      writeFileSync(join(home, 'bin', name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(home, 'bin', name), 0o755);
    };
    tool('kafka-metadata-quorum.sh', `for a in "$@"; do case "$a" in --status) cat <<'EOF'\n${status}\nEOF\nexit 0;; --replication) cat <<'EOF'\n${replication}\nEOF\nexit 0;; esac; done; exit 2`);
    tool('kafka-topics.sh', `printf '%s' '${urp}'`);
    return home;
  }
  const STATUS = `ClusterId:              MkU3OEVBNTcwNTJENDM2Qg
LeaderId:               2
LeaderEpoch:            5
HighWatermark:          1234
MaxFollowerLag:         0
MaxFollowerLagTimeMs:   0
CurrentVoters:          [{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://172.25.0.2:9093"]}, {"id": 2, "directoryId": null, "endpoints": ["CONTROLLER://172.25.0.3:9093"]}, {"id": 3, "directoryId": null, "endpoints": ["CONTROLLER://172.25.0.4:9093"]}]
CurrentObservers:       []`;
  const REPLICATION = `NodeId  DirectoryId             LogEndOffset  Lag  LastFetchTimestamp  LastCaughtUpTimestamp  Status
2       pFuCzQ9mTJ2vBnAPDuIWmA  1234          0    1733130000000       1733130000000          Leader
1       Wv2c5GhKRyWm3Hx1uQ3h6w  1234          0    1733130000000       1733130000000          Follower
3       AAAAAAAAAAAAAAAAAAAAAA  1234          0    1733130000000       1733130000000          Follower`;

  it('passes with a leader, every voter and every node registered', () => {
    const home = fakeHome(STATUS, REPLICATION);
    expect(sh(quorumHealthy(home, 'X=1', '--bootstrap-server h:9092', [1, 2, 3], [1, 2, 3])).code).toBe(0);
    // 3.6's voter format ([1, 2, 3]) too
    const old = fakeHome(STATUS.replace(/CurrentVoters:.*/, 'CurrentVoters:          [1,2,3]'), REPLICATION);
    expect(sh(quorumHealthy(old, 'X=1', '--bootstrap-server h:9092', [1, 2, 3], [1, 2, 3])).code).toBe(0);
  });

  it('fails, saying why, without a leader, with a missing voter or an unregistered node', () => {
    const noLeader = sh(quorumHealthy(fakeHome(STATUS.replace('LeaderId:               2', 'LeaderId:               -1'), REPLICATION), 'X=1', '', [1, 2, 3], [1, 2, 3]));
    expect(noLeader.code).toBe(1);
    expect(noLeader.stdout).toContain('no quorum leader');
    const twoVoters = sh(quorumHealthy(fakeHome(STATUS, REPLICATION), 'X=1', '', [1, 2, 3, 4], [1, 2, 3]));
    expect(twoVoters.stdout).toContain('voters are [1 2 3 ], expected [1 2 3 4]');
    const unregistered = sh(quorumHealthy(fakeHome(STATUS, REPLICATION), 'X=1', '', [1, 2, 3], [1, 2, 3, 5]));
    expect(unregistered.code).toBe(1);
    expect(unregistered.stdout).toContain('node 5 is not in the quorum');
  });

  it('the rolling-restart gate waits for no under-replicated partition', () => {
    expect(sh(brokerBackInIsr(fakeHome(STATUS, REPLICATION), 'X=1', 'h', 9092)).code).toBe(0);
    const urp = sh(brokerBackInIsr(fakeHome(STATUS, REPLICATION, 'Topic: t Partition: 0 Leader: 1 Replicas: 1,2,3 Isr: 1,2'), 'X=1', 'h', 9092));
    expect(urp.code).toBe(1);
    expect(urp.stdout).toContain('under-replicated: Topic: t');
  });
});
