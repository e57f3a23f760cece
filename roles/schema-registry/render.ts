/**
 * schema-registry renderers: Confluent's archive (where it lives, no checksum published here), the Kafka store from
 * the inventory's kafka group (brokers, listener port, replication factor), `schema-registry.properties`, the
 * systemd unit and the health command. Pure, unit-tested against datalyptica-minimal-5vm.md's VM1/VM2 (port 8085,
 * 2 GB) and datalyptica-enterprise-50vm.md's schema01-03 on 5 brokers.
 */
import type { Release } from '../../src/artifacts/index.js';
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/quote.js';

export interface SchemaRegistryVars {
  schema_registry_version: string;
  artifact_mirror: string;
  schema_registry_sha512: string;
  schema_registry_sha256: string;
  schema_registry_install_root: string;
  schema_registry_user: string;
  schema_registry_group: string;
  schema_registry_port: number;
  schema_registry_kafka_group: string;
  schema_registry_kafka_port: number;
  schema_registry_topic: string;
  schema_registry_replication_factor: number;
  schema_registry_group_id: string;
  schema_registry_leader_eligibility: boolean;
  schema_registry_heap: string;
  schema_registry_extra_properties: Record<string, string | number | boolean>;
  schema_registry_limit_nofile: number;
  schema_registry_health_timeout: number;
}

export const SERVICE = 'confluent-schema-registry';
export const CONFIG = '/etc/schema-registry/schema-registry.properties';
export const LOG_DIR = '/var/log/confluent/schema-registry';

/**
 * Confluent's community archive of a version: `https://packages.confluent.io/archive/7.8/confluent-community-7.8.0.tar.gz`,
 * unpacking to `confluent-7.8.0/` (bin/, etc/, share/java/). Not in the artifact catalogue: Confluent publishes no
 * checksum that this project could find from here, so the inventory must give one (schema_registry_sha512/sha256).
 */
export function confluentRelease(version: string): Release {
  const m = /^(\d+)\.(\d+)\.\d+$/.exec(version);
  if (!m) throw new Error(`schema_registry_version ${JSON.stringify(version)}: expected MAJOR.MINOR.PATCH, e.g. 7.8.0`);
  const fileName = `confluent-community-${version}.tar.gz`;
  return {
    service: 'confluent-community',
    version,
    base: 'https://packages.confluent.io/',
    path: `archive/${m[1]}.${m[2]}/${fileName}`,
    fileName,
    topDir: `confluent-${version}`,
    checksumSource: 'none published where this project could check it: the inventory gives schema_registry_sha512 or schema_registry_sha256',
  };
}

export interface KafkaStore {
  /** `PLAINTEXT://host:port,...` of the brokers, in inventory order */
  bootstrap: string;
  brokers: number;
  replicationFactor: number;
}

const isBroker = (p: PeerHost) => String(p.vars.kafka_process_roles ?? 'broker,controller').includes('broker');

/**
 * The store from the kafka group: its brokers (hosts whose `kafka_process_roles`, the kafka-kraft role's variable,
 * include broker; it defaults to broker,controller) on their `kafka_port` where the inventory sets one, else
 * `schema_registry_kafka_port`; the replication factor `schema_registry_replication_factor`, else the cluster's
 * (`kafka_default_replication_factor` where set, else 3, capped at the number of brokers, as kafka-kraft does).
 */
export function kafkaStore(v: Pick<SchemaRegistryVars, 'schema_registry_kafka_port' | 'schema_registry_replication_factor'>, kafkaHosts: PeerHost[]): KafkaStore {
  const brokers = kafkaHosts.filter(isBroker);
  const bootstrap = brokers.map((b) => `PLAINTEXT://${b.address}:${Number(b.vars.kafka_port ?? v.schema_registry_kafka_port)}`).join(',');
  const clusterRf = Number(brokers.find((b) => Number(b.vars.kafka_default_replication_factor) > 0)?.vars.kafka_default_replication_factor ?? 0);
  const replicationFactor = v.schema_registry_replication_factor || clusterRf || Math.min(3, Math.max(1, brokers.length));
  return { bootstrap, brokers: brokers.length, replicationFactor };
}

/** Offline problems: no checksum for the archive, no brokers, a replication factor the cluster cannot hold. */
export function problems(v: SchemaRegistryVars, kafkaHosts: PeerHost[]): string[] {
  const out: string[] = [];
  if (!v.schema_registry_sha512 && !v.schema_registry_sha256) {
    const rel = confluentRelease(v.schema_registry_version);
    out.push(
      `schema_registry_sha512 (or schema_registry_sha256) is required: the sha512 of ${rel.fileName} as you downloaded and checked it ` +
        `(${rel.base}${rel.path}); Confluent publishes no checksum this project could pin, so none is built in`,
    );
  }
  const store = kafkaStore(v, kafkaHosts);
  if (!store.brokers) {
    out.push(`group ${v.schema_registry_kafka_group} has no Kafka broker: kafkastore.bootstrap.servers comes from its hosts (set schema_registry_kafka_group to the brokers' group)`);
  } else if (store.replicationFactor > store.brokers) {
    out.push(`kafkastore.topic.replication.factor ${store.replicationFactor} is more than the ${store.brokers} broker(s) of group ${v.schema_registry_kafka_group}: lower schema_registry_replication_factor`);
  }
  return out;
}

const prop = (k: string, val: string | number | boolean) => `${k}=${val}`;

export function schemaRegistryProperties(v: SchemaRegistryVars, address: string, store: KafkaStore): string {
  const lines = [
    '# Managed by orch (role schema-registry): edits here are overwritten',
    prop('listeners', `http://0.0.0.0:${v.schema_registry_port}`),
    prop('host.name', address),
    '',
    '# Kafka store',
    prop('kafkastore.bootstrap.servers', store.bootstrap),
    prop('kafkastore.topic', v.schema_registry_topic),
    prop('kafkastore.topic.replication.factor', store.replicationFactor),
    '',
    '# Leader election among the instances of the group id',
    prop('schema.registry.group.id', v.schema_registry_group_id),
    prop('leader.eligibility', v.schema_registry_leader_eligibility),
  ];
  const extra = Object.entries(v.schema_registry_extra_properties);
  if (extra.length) lines.push('', '# From the inventory (schema_registry_extra_properties)', ...extra.sort(([a], [b]) => a.localeCompare(b)).map(([k, val]) => prop(k, val)));
  return lines.join('\n') + '\n';
}

/** `1g` -> `-Xms1g -Xmx1g` */
export const heapOpts = (heap: string) => `-Xms${heap} -Xmx${heap}`;

/** MiB of a heap size: `1g` -> 1024, `512m` -> 512 */
export const heapMb = (heap: string) => Number(heap.slice(0, -1)) * (/[gG]$/.test(heap) ? 1024 : 1);

export function unitFile(v: SchemaRegistryVars, javaHome: string, home: string): string {
  return [
    '# Managed by orch (role schema-registry)',
    '[Unit]',
    `Description=Confluent Schema Registry ${v.schema_registry_version}`,
    'Documentation=https://docs.confluent.io/platform/current/schema-registry/index.html',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${v.schema_registry_user}`,
    `Group=${v.schema_registry_group}`,
    `Environment=JAVA_HOME=${javaHome}`,
    `Environment="SCHEMA_REGISTRY_HEAP_OPTS=${heapOpts(v.schema_registry_heap)}"`,
    `Environment=LOG_DIR=${LOG_DIR}`,
    `ExecStart=${home}/bin/schema-registry-start ${CONFIG}`,
    'SuccessExitStatus=143',
    'Restart=on-failure',
    'RestartSec=5',
    'TimeoutStopSec=180',
    `LimitNOFILE=${v.schema_registry_limit_nofile}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** sh exiting 0 when the REST API answers GET / and GET /subjects gives a JSON array (the health check). */
export function healthCommand(address: string, port: number): string {
  const base = `http://${address}:${port}`;
  return [
    `curl -sf --max-time 5 -o /dev/null ${q(`${base}/`)} || { echo ${q(`GET ${base}/ does not answer`)}; exit 1; }`,
    `subjects=$(curl -sf --max-time 10 ${q(`${base}/subjects`)}) || { echo ${q(`GET ${base}/subjects failed`)}; exit 1; }`,
    `case "$subjects" in '['*']') ;; *) echo "GET /subjects is not a JSON array: $subjects"; exit 1;; esac`,
  ].join('\n');
}
