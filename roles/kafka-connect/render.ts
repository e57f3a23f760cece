/**
 * kafka-connect renderers: the workers of the inventory group, the brokers they bootstrap from (the kafka group,
 * each broker's kafka_port), `connect-distributed.properties`, the unit and the REST health commands. Pure,
 * unit-tested in test/unit/role-kafka-connect.test.ts against datalyptica-minimal-5vm.md (one worker on VM5, 8083)
 * and datalyptica-enterprise-50vm.md (3 workers, 5 brokers).
 */
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/quote.js';
import { jvmServiceUnit } from '../kafka-kraft/release.js';

export interface ConnectVars {
  kafka_connect_version: string;
  kafka_connect_user: string;
  kafka_connect_group_id: string;
  kafka_connect_bootstrap_group: string;
  kafka_connect_bootstrap_servers: string[];
  kafka_connect_port: number;
  kafka_connect_config_topic: string;
  kafka_connect_offset_topic: string;
  kafka_connect_status_topic: string;
  kafka_connect_offset_partitions: number;
  kafka_connect_status_partitions: number;
  kafka_connect_replication_factor: number;
  kafka_connect_key_converter: string;
  kafka_connect_value_converter: string;
  kafka_connect_schemas_enable: boolean;
  kafka_connect_plugin_path: string[];
  kafka_connect_file_connectors: boolean;
  kafka_connect_offset_flush_interval_ms: number;
  kafka_connect_extra_properties: Record<string, string | number | boolean>;
  kafka_connect_heap: string;
  kafka_connect_limit_nofile: number;
}

/** `host:port` of every broker: the inventory's list when given, else the hosts of the kafka group at their kafka_port. */
export function bootstrapServers(v: Pick<ConnectVars, 'kafka_connect_bootstrap_servers'>, kafka: PeerHost[]): string[] {
  if (v.kafka_connect_bootstrap_servers.length) return v.kafka_connect_bootstrap_servers;
  return kafka.map((p) => `${p.address}:${Number(p.vars.kafka_port ?? 9092)}`);
}

/** The replication factor of Connect's three internal topics: the inventory's, else the cluster's min(3, brokers). */
export function topicReplication(v: Pick<ConnectVars, 'kafka_connect_replication_factor'>, brokers: number): number {
  return v.kafka_connect_replication_factor || Math.min(3, Math.max(1, brokers));
}

/** plugin.path: the inventory's directories, and the release's FileStream connectors jar when asked for. */
export function pluginPath(v: Pick<ConnectVars, 'kafka_connect_plugin_path' | 'kafka_connect_file_connectors' | 'kafka_connect_version'>, home: string): string[] {
  return [...v.kafka_connect_plugin_path, ...(v.kafka_connect_file_connectors ? [`${home}/libs/connect-file-${v.kafka_connect_version}.jar`] : [])];
}

const prop = (k: string, val: string | number | boolean) => `${k}=${val}`;

export function connectProperties(v: ConnectVars, o: { address: string; bootstrap: string[]; brokers: number; home: string }): string {
  const rf = topicReplication(v, o.brokers);
  const lines = [
    '# Managed by orch (role kafka-connect): edits here are overwritten',
    '# Kafka Connect, distributed mode',
    prop('bootstrap.servers', o.bootstrap.join(',')),
    prop('group.id', v.kafka_connect_group_id),
    '',
    '# REST API, advertised to the other workers at this host address',
    prop('listeners', `HTTP://:${v.kafka_connect_port}`),
    prop('rest.advertised.host.name', o.address),
    prop('rest.advertised.port', v.kafka_connect_port),
    '',
    '# Converters',
    prop('key.converter', v.kafka_connect_key_converter),
    prop('value.converter', v.kafka_connect_value_converter),
    prop('key.converter.schemas.enable', v.kafka_connect_schemas_enable),
    prop('value.converter.schemas.enable', v.kafka_connect_schemas_enable),
    '',
    "# The cluster's state: configs (one partition, compacted), offsets and status, replicated like the cluster",
    prop('config.storage.topic', v.kafka_connect_config_topic),
    prop('config.storage.replication.factor', rf),
    prop('offset.storage.topic', v.kafka_connect_offset_topic),
    prop('offset.storage.replication.factor', rf),
    prop('offset.storage.partitions', v.kafka_connect_offset_partitions),
    prop('status.storage.topic', v.kafka_connect_status_topic),
    prop('status.storage.replication.factor', rf),
    prop('status.storage.partitions', v.kafka_connect_status_partitions),
    prop('offset.flush.interval.ms', v.kafka_connect_offset_flush_interval_ms),
    '',
    '# Connector plugins',
    prop('plugin.path', pluginPath(v, o.home).join(',')),
  ];
  const extra = Object.entries(v.kafka_connect_extra_properties);
  if (extra.length) lines.push('', '# From the inventory (kafka_connect_extra_properties)', ...extra.sort(([a], [b]) => a.localeCompare(b)).map(([k, val]) => prop(k, val)));
  return lines.join('\n') + '\n';
}

export function unitFile(v: ConnectVars, o: { javaHome: string; home: string; config: string }): string {
  return jvmServiceUnit({
    role: 'kafka-connect',
    description: `Kafka Connect ${v.kafka_connect_version} (distributed worker)`,
    user: v.kafka_connect_user,
    group: v.kafka_connect_user,
    environment: [
      ['JAVA_HOME', o.javaHome],
      ['KAFKA_HEAP_OPTS', `-Xms${v.kafka_connect_heap} -Xmx${v.kafka_connect_heap}`],
      ['LOG_DIR', '/var/log/kafka-connect'],
    ],
    execStart: `${o.home}/bin/connect-distributed.sh ${o.config}`,
    limitNofile: v.kafka_connect_limit_nofile,
  });
}

/**
 * sh exiting 0 when this worker's REST API answers `/` (its version and the Kafka cluster id) and `/connectors`
 * (a JSON list; a worker that has not joined its group yet answers 409 or 500 there).
 */
export function restHealthy(address: string, port: number): string {
  const base = `http://${address}:${port}`;
  return [
    `root=$(curl -fsS --max-time 10 ${q(`${base}/`)} 2>&1) || { echo "GET / : $root"; exit 1; }`,
    `printf '%s' "$root" | grep -q '"kafka_cluster_id"' || { echo "GET / answered without a Kafka cluster id: $root"; exit 1; }`,
    `list=$(curl -fsS --max-time 10 ${q(`${base}/connectors`)} 2>&1) || { echo "GET /connectors: $list"; exit 1; }`,
    `case $list in '['*']') ;; *) echo "GET /connectors answered no list: $list"; exit 1 ;; esac`,
  ].join('\n');
}
