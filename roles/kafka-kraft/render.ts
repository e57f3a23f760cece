/**
 * kafka-kraft renderers: the cluster's layout from the inventory (node ids, process roles, the controller quorum),
 * `server.properties` with the seeds' broker settings, the systemd unit and the health commands. Pure, unit-tested
 * against datalyptica-enterprise-50vm.md's "Kafka Configuration" and flink-kafka-4vcpu-8gb.md's single broker.
 */
import { randomBytes } from 'node:crypto';
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/quote.js';
import { jvmServiceUnit } from './release.js';

export type ProcessRoles = 'broker,controller' | 'broker' | 'controller';

export interface KafkaVars {
  kafka_version: string;
  kafka_group: string;
  kafka_node_id: number;
  kafka_process_roles: ProcessRoles;
  kafka_port: number;
  kafka_controller_port: number;
  kafka_log_dirs: string[];
  kafka_heap: string;
  kafka_default_replication_factor: number;
  kafka_min_insync_replicas: number;
  kafka_num_partitions: number;
  kafka_log_retention_hours: number;
  kafka_log_segment_bytes: number;
  kafka_log_retention_check_interval_ms: number;
  kafka_num_network_threads: number;
  kafka_num_io_threads: number;
  kafka_socket_send_buffer_bytes: number;
  kafka_socket_receive_buffer_bytes: number;
  kafka_compression_type: string;
  kafka_unclean_leader_election: boolean;
  kafka_extra_properties: Record<string, string | number | boolean>;
  kafka_limit_nofile: number;
  kafka_install_root: string;
  kafka_user: string;
}

export interface KafkaNode {
  host: string;
  address: string;
  id: number;
  roles: ProcessRoles;
}

/** A host's node id: `kafka_node_id`, else the inventory's `node_id`. */
export function nodeIdOf(vars: Record<string, unknown>): number | undefined {
  const own = Number(vars.kafka_node_id);
  if (Number.isInteger(own) && own > 0) return own;
  const n = Number(vars.node_id);
  return Number.isInteger(n) && n >= 0 && vars.node_id !== undefined && vars.node_id !== '' ? n : undefined;
}

/** Every node of the cluster (the hosts of `kafka_group`), in inventory order. */
export function clusterNodes(peers: PeerHost[]): KafkaNode[] {
  return peers.map((p) => ({
    host: p.name,
    address: p.address,
    id: nodeIdOf(p.vars) ?? -1,
    roles: ((p.vars.kafka_process_roles as ProcessRoles | undefined) ?? 'broker,controller') as ProcessRoles,
  }));
}

export const isController = (n: KafkaNode) => n.roles.includes('controller');
export const isBroker = (n: KafkaNode) => n.roles.includes('broker');

/** Static quorum voters: `1@kafka01:9093,2@kafka02:9093,3@kafka03:9093`. */
export function quorumVoters(nodes: KafkaNode[], controllerPort: number): string {
  return nodes
    .filter(isController)
    .map((n) => `${n.id}@${n.address}:${controllerPort}`)
    .join(',');
}

/** Problems of the layout, for `validate` (offline, before any host is touched). */
export function layoutProblems(nodes: KafkaNode[], group: string): string[] {
  const out: string[] = [];
  for (const n of nodes) if (n.id < 0) out.push(`host ${n.host} of group ${group} has no Kafka node id: set node_id (or kafka_node_id) in its host variables`);
  const byId = new Map<number, string[]>();
  for (const n of nodes) if (n.id >= 0) byId.set(n.id, [...(byId.get(n.id) ?? []), n.host]);
  for (const [id, hosts] of byId) if (hosts.length > 1) out.push(`Kafka node id ${id} is used by ${hosts.join(' and ')} (group ${group}): node ids must be unique; give each host its own node_id`);
  if (nodes.length && !nodes.some(isController)) out.push(`group ${group} has no KRaft controller: set kafka_process_roles to broker,controller (or controller) on 1, 3 or 5 of its hosts`);
  if (nodes.length && !nodes.some(isBroker)) out.push(`group ${group} has no broker: set kafka_process_roles to broker,controller (or broker) on at least one host`);
  return out;
}

/** The replication settings: the seeds' (3 / 2) for a cluster, 1 / 1 and flink-kafka's topic defaults for one broker. */
export function replication(v: KafkaVars, brokers: number) {
  const single = brokers <= 1;
  const rf = v.kafka_default_replication_factor || Math.min(3, Math.max(1, brokers));
  const minIsr = v.kafka_min_insync_replicas || (single ? 1 : Math.min(2, rf));
  return {
    replicationFactor: rf,
    minIsr,
    partitions: v.kafka_num_partitions || (single ? 6 : 12),
    retentionHours: v.kafka_log_retention_hours || (single ? 24 : 168),
  };
}

const prop = (k: string, val: string | number | boolean) => `${k}=${val}`;

export function serverProperties(v: KafkaVars, self: KafkaNode, nodes: KafkaNode[]): string {
  const brokers = nodes.filter(isBroker).length;
  const r = replication(v, brokers);
  const listeners: string[] = [];
  if (isBroker(self)) listeners.push(`PLAINTEXT://${self.address}:${v.kafka_port}`);
  if (isController(self)) listeners.push(`CONTROLLER://${self.address}:${v.kafka_controller_port}`);
  const lines = [
    '# Managed by orch (role kafka-kraft): edits here are overwritten',
    '# KRaft mode',
    prop('process.roles', self.roles),
    prop('node.id', self.id),
    prop('controller.quorum.voters', quorumVoters(nodes, v.kafka_controller_port)),
    prop('controller.listener.names', 'CONTROLLER'),
    prop('listeners', listeners.join(',')),
    ...(isBroker(self) ? [prop('advertised.listeners', `PLAINTEXT://${self.address}:${v.kafka_port}`), prop('inter.broker.listener.name', 'PLAINTEXT')] : []),
    prop('listener.security.protocol.map', 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'),
    '',
    '# Replication',
    prop('default.replication.factor', r.replicationFactor),
    prop('min.insync.replicas', r.minIsr),
    prop('unclean.leader.election.enable', v.kafka_unclean_leader_election),
    prop('offsets.topic.replication.factor', r.replicationFactor),
    prop('transaction.state.log.replication.factor', r.replicationFactor),
    prop('transaction.state.log.min.isr', r.minIsr),
    '',
    '# Performance',
    prop('num.network.threads', v.kafka_num_network_threads),
    prop('num.io.threads', v.kafka_num_io_threads),
    prop('socket.send.buffer.bytes', v.kafka_socket_send_buffer_bytes),
    prop('socket.receive.buffer.bytes', v.kafka_socket_receive_buffer_bytes),
    '',
    '# Log configuration',
    prop('log.dirs', v.kafka_log_dirs.join(',')),
    prop('num.partitions', r.partitions),
    prop('log.retention.hours', r.retentionHours),
    prop('log.segment.bytes', v.kafka_log_segment_bytes),
    prop('log.retention.check.interval.ms', v.kafka_log_retention_check_interval_ms),
    '',
    '# Compression',
    prop('compression.type', v.kafka_compression_type),
  ];
  const extra = Object.entries(v.kafka_extra_properties);
  if (extra.length) lines.push('', '# From the inventory (kafka_extra_properties)', ...extra.sort(([a], [b]) => a.localeCompare(b)).map(([k, val]) => prop(k, val)));
  return lines.join('\n') + '\n';
}

/** `16g` -> `-Xms16g -Xmx16g`. */
export const heapOpts = (heap: string) => `-Xms${heap} -Xmx${heap}`;

export function unitFile(v: KafkaVars, javaHome: string, home: string, config: string): string {
  return jvmServiceUnit({
    role: 'kafka-kraft',
    description: `Apache Kafka ${v.kafka_version} (KRaft)`,
    user: v.kafka_user,
    group: v.kafka_user,
    environment: [
      ['JAVA_HOME', javaHome],
      ['KAFKA_HEAP_OPTS', heapOpts(v.kafka_heap)],
      ['LOG_DIR', '/var/log/kafka'],
    ],
    execStart: `${home}/bin/kafka-server-start.sh ${config}`,
    limitNofile: v.kafka_limit_nofile,
  });
}

/** A KRaft cluster id as `kafka-storage.sh random-uuid` makes it: 16 random bytes, URL-safe base64, no padding. */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

export const CLUSTER_ID = /^[A-Za-z0-9_-]{22}$/;

/** sh printing the cluster id of every formatted log dir of this host (one line each, deduplicated). */
export function readClusterId(logDirs: string[]): string {
  return `for d in ${logDirs.map(q).join(' ')}; do [ -f "$d/meta.properties" ] && sed -n 's/^cluster\\.id=//p' "$d/meta.properties"; done | sort -u`;
}

/** Environment for the Kafka CLIs run by orch (small heap, logs to the console's stderr only). */
export function cliEnv(javaHome: string): string {
  return `JAVA_HOME=${q(javaHome)} KAFKA_HEAP_OPTS=-Xmx256m`;
}

/**
 * sh exiting 0 when the quorum (asked through this host) has a leader and every voter, and every node of the
 * cluster appears in its replication state (the brokers registered as voters or observers).
 */
export function quorumHealthy(home: string, env: string, bootstrap: string, voterIds: number[], nodeIds: number[]): string {
  const tool = `env ${env} ${home}/bin/kafka-metadata-quorum.sh ${bootstrap}`;
  return [
    `st=$(${tool} describe --status 2>&1) || { echo "$st"; exit 1; }`,
    `leader=$(printf '%s\\n' "$st" | sed -n 's/^LeaderId:[[:space:]]*//p')`,
    `[ -n "$leader" ] && [ "$leader" -ge 0 ] || { echo "no quorum leader: $st"; exit 1; }`,
    `voters=$(printf '%s\\n' "$st" | sed -n 's/^CurrentVoters:[[:space:]]*//p' | grep -o '"id": *[0-9]*\\|[[,] *[0-9][0-9]*' | grep -o '[0-9][0-9]*' | sort -n | tr '\\n' ' ')`,
    `[ "$voters" = ${q(voterIds.slice().sort((a, b) => a - b).join(' ') + ' ')} ] || { echo "voters are [$voters], expected [${voterIds.join(' ')}]"; exit 1; }`,
    `rep=$(${tool} describe --replication 2>&1) || { echo "$rep"; exit 1; }`,
    ...nodeIds.map((id) => `printf '%s\\n' "$rep" | awk 'NR>1 {print $1}' | grep -qx ${id} || { echo "node ${id} is not in the quorum's replication state"; exit 1; }`),
  ].join('\n');
}

/** sh exiting 0 when this broker answers and no partition is under-replicated (the rolling-restart gate). */
export function brokerBackInIsr(home: string, env: string, address: string, port: number): string {
  return [
    `out=$(env ${env} ${home}/bin/kafka-topics.sh --bootstrap-server ${q(`${address}:${port}`)} --describe --under-replicated-partitions 2>&1) || { echo "$out"; exit 1; }`,
    `[ -z "$(printf '%s' "$out" | grep -v '^[[:space:]]*$')" ] || { echo "under-replicated: $out"; exit 1; }`,
  ].join('\n');
}

/** sh exiting 0 when this node is the quorum's leader (the active controller): it restarts last. */
export function isQuorumLeader(home: string, env: string, bootstrap: string, id: number): string {
  return `[ "$(env ${env} ${home}/bin/kafka-metadata-quorum.sh ${bootstrap} describe --status 2>/dev/null | sed -n 's/^LeaderId:[[:space:]]*//p')" = ${id} ]`;
}
