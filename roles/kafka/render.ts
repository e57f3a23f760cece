/**
 * kafka (ZooKeeper mode) renderers: the brokers of the inventory group and their ids, `zookeeper.connect` from the
 * zookeeper group (each server's client port), `server.properties` with spark-kafka-cluster-aws.md's values, the
 * unit (Requires=zookeeper.service where ZooKeeper runs on the same host) and the health commands (registered in
 * ZooKeeper under /brokers/ids, the controller's id in /controller). Pure, unit-tested in test/unit/role-kafka.test.ts.
 */
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/quote.js';
import { jvmServiceUnit } from '../kafka-kraft/release.js';

export interface ZkKafkaVars {
  kafka_version: string;
  kafka_user: string;
  kafka_group: string;
  kafka_broker_id: number;
  kafka_port: number;
  kafka_advertised_host: string;
  kafka_zookeeper_group: string;
  kafka_zookeeper_connect: string;
  kafka_zookeeper_chroot: string;
  kafka_zookeeper_connection_timeout_ms: number;
  kafka_zookeeper_unit_dependency: 'requires' | 'wants' | 'none';
  kafka_log_dirs: string[];
  kafka_num_network_threads: number;
  kafka_num_io_threads: number;
  kafka_num_partitions: number;
  kafka_num_recovery_threads_per_data_dir: number;
  kafka_default_replication_factor: number;
  kafka_log_retention_hours: number;
  kafka_log_segment_bytes: number;
  kafka_extra_properties: Record<string, string | number | boolean>;
  kafka_heap: string;
  kafka_limit_nofile: number;
}

export interface Broker {
  host: string;
  address: string;
  /** broker.id: the host's kafka_broker_id, else its node_id; a single broker without either is 1 (the seed) */
  id: number | undefined;
}

const intOf = (raw: unknown): number | undefined =>
  typeof raw === 'number' && Number.isInteger(raw) ? raw : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : undefined;

/** The brokers of the cluster: every host of the group, in inventory order. */
export function brokers(peers: PeerHost[]): Broker[] {
  return peers.map((p) => {
    const own = intOf(p.vars.kafka_broker_id);
    const id = own !== undefined && own > 0 ? own : intOf(p.vars.node_id);
    return { host: p.name, address: p.address, id: id === undefined && peers.length === 1 ? 1 : id };
  });
}

/** Missing or shared broker ids, for `validate` (offline). */
export function brokerIdProblems(bs: Broker[], group: string): string[] {
  const out: string[] = [];
  const seen = new Map<number, string>();
  for (const b of bs) {
    if (b.id === undefined) {
      out.push(`host ${b.host} of group ${group} has no Kafka broker id: set node_id (or kafka_broker_id) in its host variables`);
      continue;
    }
    const other = seen.get(b.id);
    if (other) out.push(`hosts ${other} and ${b.host} have the same Kafka broker.id ${b.id} (group ${group}): give each host its own node_id or kafka_broker_id`);
    else seen.set(b.id, b.host);
  }
  return out;
}

/**
 * `zookeeper.connect`: the inventory's `kafka_zookeeper_connect` when set; else every host of the zookeeper group
 * at its `zookeeper_client_port` (2181), `localhost:PORT` when the ensemble is this host alone (the seed's
 * `localhost:2181`); the chroot appended.
 */
export function zookeeperConnect(v: Pick<ZkKafkaVars, 'kafka_zookeeper_connect' | 'kafka_zookeeper_chroot'>, zk: PeerHost[], self: string): string {
  const chroot = v.kafka_zookeeper_chroot;
  if (v.kafka_zookeeper_connect) return v.kafka_zookeeper_connect;
  const port = (p: PeerHost) => Number(p.vars.zookeeper_client_port ?? 2181);
  const servers = zk.length === 1 && zk[0].name === self ? [`localhost:${port(zk[0])}`] : zk.map((p) => `${p.address}:${port(p)}`);
  return servers.join(',') + chroot;
}

/** The replication of the internal topics (and default.replication.factor): 1 for the seed's single broker, else min(3, brokers). */
export function replicationFactor(v: Pick<ZkKafkaVars, 'kafka_default_replication_factor'>, brokerCount: number): number {
  return v.kafka_default_replication_factor || Math.min(3, Math.max(1, brokerCount));
}

const prop = (k: string, val: string | number | boolean) => `${k}=${val}`;

/** server.properties, in the order and with the values of spark-kafka-cluster-aws.md's "Apache Kafka" section. */
export function serverProperties(v: ZkKafkaVars, self: Broker & { advertised: string }, brokerCount: number, zkConnect: string): string {
  const rf = replicationFactor(v, brokerCount);
  const minIsr = rf >= 3 ? 2 : 1;
  const lines = [
    '# Managed by orch (role kafka, ZooKeeper mode): edits here are overwritten',
    '# Broker Configuration',
    prop('broker.id', self.id ?? -1),
    prop('listeners', `PLAINTEXT://:${v.kafka_port}`),
    prop('advertised.listeners', `PLAINTEXT://${self.advertised}:${v.kafka_port}`),
    '',
    '# Network Threads',
    prop('num.network.threads', v.kafka_num_network_threads),
    prop('num.io.threads', v.kafka_num_io_threads),
    '',
    '# Log Configuration',
    prop('log.dirs', v.kafka_log_dirs.join(',')),
    prop('num.partitions', v.kafka_num_partitions),
    prop('num.recovery.threads.per.data.dir', v.kafka_num_recovery_threads_per_data_dir),
    '',
    '# Replication',
    ...(brokerCount > 1 || v.kafka_default_replication_factor ? [prop('default.replication.factor', rf)] : []),
    prop('offsets.topic.replication.factor', rf),
    prop('transaction.state.log.replication.factor', rf),
    prop('transaction.state.log.min.isr', minIsr),
    '',
    '# Retention',
    prop('log.retention.hours', v.kafka_log_retention_hours),
    prop('log.segment.bytes', v.kafka_log_segment_bytes),
    '',
    '# Zookeeper',
    prop('zookeeper.connect', zkConnect),
    prop('zookeeper.connection.timeout.ms', v.kafka_zookeeper_connection_timeout_ms),
  ];
  const extra = Object.entries(v.kafka_extra_properties);
  if (extra.length) lines.push('', '# From the inventory (kafka_extra_properties)', ...extra.sort(([a], [b]) => a.localeCompare(b)).map(([k, val]) => prop(k, val)));
  return lines.join('\n') + '\n';
}

/** The seed's `KAFKA_HEAP_OPTS=-Xmx1G -Xms1G`. */
export const seedHeapOpts = (heap: string) => `-Xmx${heap} -Xms${heap}`;

/**
 * The seed's kafka.service: after (and requiring) zookeeper.service when ZooKeeper runs on this host, as user spark,
 * KAFKA_HEAP_OPTS, kafka-server-start.sh with the config, restarted on failure. No ExecStop: kafka-server-stop.sh
 * signals every kafka.Kafka of the machine and returns at once; systemd's own SIGTERM to the unit's JVM is the
 * same controlled shutdown, and it waits for it.
 */
export function unitFile(v: ZkKafkaVars, o: { javaHome: string; home: string; config: string; zookeeperHere: boolean }): string {
  const dep = o.zookeeperHere ? v.kafka_zookeeper_unit_dependency : 'none';
  return jvmServiceUnit({
    role: 'kafka',
    description: `Apache Kafka ${v.kafka_version} (ZooKeeper mode)`,
    after: dep === 'none' ? [] : ['zookeeper.service'],
    requires: dep === 'requires' ? ['zookeeper.service'] : [],
    user: v.kafka_user,
    group: v.kafka_user,
    environment: [
      ['JAVA_HOME', o.javaHome],
      ['KAFKA_HEAP_OPTS', seedHeapOpts(v.kafka_heap)],
      ['LOG_DIR', '/var/log/kafka'],
    ],
    execStart: `${o.home}/bin/kafka-server-start.sh ${o.config}`,
    wants: dep === 'wants' ? ['zookeeper.service'] : [],
    limitNofile: v.kafka_limit_nofile,
  });
}

/** sh printing the broker ids registered in ZooKeeper (`ls /brokers/ids` through Kafka's zookeeper-shell.sh), one per line. */
export function registeredIds(home: string, env: string, zk: string): string {
  return `env ${env} ${home}/bin/zookeeper-shell.sh ${q(zk)} ls /brokers/ids 2>/dev/null | sed -n 's/^\\[\\([0-9, ]*\\)\\]$/\\1/p' | tr -d ' ' | tr ',' '\\n' | sed '/^$/d'`;
}

/** sh exiting 0 when every id is registered under /brokers/ids (each broker's ephemeral znode: it is up and in the cluster). */
export function brokersRegistered(home: string, env: string, zk: string, ids: number[]): string {
  return [
    `ids=$(${registeredIds(home, env, zk)}) || ids=`,
    ...ids.map((id) => `printf '%s\\n' "$ids" | grep -qx ${id} || { echo "broker ${id} is not registered in ZooKeeper under /brokers/ids (registered: $(printf '%s' "$ids" | tr '\\n' ' '))"; exit 1; }`),
  ].join('\n');
}

/** sh exiting 0 when this broker is the active controller (its id in /controller): it restarts last. */
export function isController(home: string, env: string, zk: string, id: number): string {
  return `env ${env} ${home}/bin/zookeeper-shell.sh ${q(zk)} get /controller 2>/dev/null | grep -q '"brokerid":${id}[,}]'`;
}
