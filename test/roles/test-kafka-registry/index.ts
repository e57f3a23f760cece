/**
 * test-kafka-registry: a TEST role (not a production Kafka role) that installs the Kafka release archive the way a
 * role does, from `artifact_mirror` with a given sha512, and runs it: OpenJDK from Debian (ops.packages, through the
 * simulation's apt proxy), the archive with ops.artifact (release dir + `current` link), a KRaft storage dir
 * formatted once, and one server that is broker and controller at once, as a systemd unit.
 * Used by test/integration/artifact-registry.test.ts with an archive built from Maven Central.
 */
import { artifactSource, release } from '../../../src/artifacts/index.js';
import { ops, q } from '../../../src/ops/index.js';
import { defineRole } from '../../../src/role/define.js';
import { v } from '../../../src/role/vars.js';
import { javaHome, javaPackage } from '../../../roles/java/index.js';

export const KAFKA_HOME = '/opt/kafka/current';
export const KAFKA_CONFIG = '/etc/kafka/server.properties';
export const KAFKA_DATA = '/var/lib/kafka/data';

export function serverProperties(o: { clusterPort: number; controllerPort: number; dataDir: string }): string {
  return [
    '# Managed by orch (test role test-kafka-registry)',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@localhost:${o.controllerPort}`,
    `listeners=PLAINTEXT://:${o.clusterPort},CONTROLLER://:${o.controllerPort}`,
    'inter.broker.listener.name=PLAINTEXT',
    `advertised.listeners=PLAINTEXT://localhost:${o.clusterPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${o.dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    '',
  ].join('\n');
}

export default defineRole({
  name: 'test-kafka-registry',
  description: 'TEST role: Kafka from artifact_mirror (registry-built archive), one KRaft broker+controller',
  vars: {
    kafka_version: v.str({ default: '3.9.0', doc: 'a release of the artifact catalogue (src/artifacts)' }),
    artifact_mirror: v.str({ default: '', doc: 'base URL replacing the official one (same release path); empty: official' }),
    kafka_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', doc: 'sha512 of the archive at the mirror; empty: the pinned one' }),
    kafka_cluster_id: v.str({ pattern: '^[A-Za-z0-9_-]{22}$', doc: 'KRaft cluster id (kafka-storage.sh random-uuid)' }),
    kafka_heap_opts: v.str({ default: '-Xmx256m -Xms256m', doc: 'KAFKA_HEAP_OPTS of the server' }),
    kafka_port: v.port({ default: 9092, doc: 'broker listener' }),
    kafka_controller_port: v.port({ default: 9093, doc: 'controller listener' }),
    test_artifact_cache_dir: v.str({ default: '', doc: 'controller cache for ops.artifact (empty: the default)' }),
    apt_proxy: v.str({ default: '', doc: 'HTTP proxy for apt (the simulation sets it)' }),
  },
  operations({ vars, host }) {
    const rel = release('kafka', vars.kafka_version);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror, sha512: vars.kafka_sha512 || undefined });
    const java = javaHome('17', host.facts);
    const dest = `/opt/kafka/releases/${rel.version}`;
    const env = `JAVA_HOME=${q(java)} LOG_DIR=/var/log/kafka KAFKA_HEAP_OPTS=-Xmx128m`;
    return [
      // OpenJDK's postinst links its man page into /usr/share/man/man1, which minimal images leave out
      ops.dir({ path: '/usr/share/man/man1', owner: 'root', group: 'root', mode: 0o755 }),
      ops.packages({ names: [javaPackage('17', host.facts, false), 'procps'], osFamily: host.facts.osFamily, aptProxy: vars.apt_proxy || undefined }),
      ops.group({ name: 'kafka', system: true }),
      ops.user({ name: 'kafka', group: 'kafka', system: true, home: '/var/lib/kafka', createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({
        url: src.url,
        sha512: src.sha512,
        dest,
        link: '/opt/kafka/current',
        stripComponents: 1,
        ...(vars.test_artifact_cache_dir ? { cacheDir: vars.test_artifact_cache_dir } : {}),
      }),
      ops.dir({ path: '/var/lib/kafka', owner: 'kafka', group: 'kafka', mode: 0o750 }),
      ops.dir({ path: '/var/log/kafka', owner: 'kafka', group: 'kafka', mode: 0o750 }),
      ops.dir({ path: '/etc/kafka', owner: 'root', group: 'kafka', mode: 0o750 }),
      ops.file({
        path: KAFKA_CONFIG,
        content: serverProperties({ clusterPort: vars.kafka_port, controllerPort: vars.kafka_controller_port, dataDir: KAFKA_DATA }),
        owner: 'root',
        group: 'kafka',
        mode: 0o640,
        notify: ['kafka'],
      }),
      ops.command({
        name: `format the KRaft storage ${KAFKA_DATA} (cluster ${vars.kafka_cluster_id})`,
        run: `runuser -u kafka -- env ${env} ${KAFKA_HOME}/bin/kafka-storage.sh format -t ${q(vars.kafka_cluster_id)} -c ${KAFKA_CONFIG}`,
        creates: `${KAFKA_DATA}/meta.properties`,
      }),
      ops.unit({
        name: 'kafka.service',
        content: [
          '[Unit]',
          'Description=Apache Kafka (KRaft broker and controller; orch test role)',
          'After=network-online.target',
          '',
          '[Service]',
          'Type=simple',
          'User=kafka',
          'Group=kafka',
          `Environment=JAVA_HOME=${java}`,
          `Environment="KAFKA_HEAP_OPTS=${vars.kafka_heap_opts}"`,
          'Environment=LOG_DIR=/var/log/kafka',
          `ExecStart=${KAFKA_HOME}/bin/kafka-server-start.sh ${KAFKA_CONFIG}`,
          'SuccessExitStatus=143',
          'Restart=on-failure',
          'TimeoutStopSec=60',
          '',
          '[Install]',
          'WantedBy=multi-user.target',
          '',
        ].join('\n'),
        notify: ['kafka'],
      }),
      ops.service({ name: 'kafka', enabled: true, state: 'started' }),
      ops.waitForPort({ port: vars.kafka_port, timeoutS: 120 }),
    ];
  },
});
