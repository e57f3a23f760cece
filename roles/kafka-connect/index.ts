/** kafka-connect: see DOC below (also shown by `orch roles show kafka-connect`). */
import { ops, serviceLimits } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { heapMb, kafkaRelease } from '../kafka-kraft/release.js';
import { bootstrapServers, connectProperties, restHealthy, unitFile, type ConnectVars } from './render.js';

const CONFIG = '/etc/kafka-connect/connect-distributed.properties';

const DOC = `
kafka-connect: Kafka Connect workers in distributed mode, as the Datalyptica seeds run them:
datalyptica-minimal-5vm.md's one worker on VM5 (Kafka Connect 3.9.0, port 8083, 4 GB, 2 vCPU, "CDC connectors")
and datalyptica-enterprise-50vm.md's cluster of 3 (connect01-03, distributed mode, Debezium 2.7 as a plugin).

- Release: Connect's distributed main (org.apache.kafka.connect.cli.ConnectDistributed, bin/connect-distributed.sh)
  from Apache's Kafka release archive, installed as the brokers' is (roles/kafka-kraft/release.ts) but under its own
  root, /opt/kafka-connect/releases/<version> + /opt/kafka-connect/current, so that workers and brokers on one host
  upgrade separately. User kafka-connect, config /etc/kafka-connect/connect-distributed.properties, logs in
  /var/log/kafka-connect, heap 2g (-Xms = -Xmx; the seed's 4 GB is heap plus the connectors' native memory).
- Workers: every host of the inventory group \`kafka_connect_inventory_group\` (kafka_connect) is one worker of the
  Connect group \`kafka_connect_group_id\`; the REST API listens on 8083 and is advertised at the host's address
  (workers forward requests to the leader there).
- Brokers: bootstrap.servers are the hosts of \`kafka_connect_bootstrap_group\` (kafka: the kafka-kraft or kafka
  role's group) at each one's kafka_port, or \`kafka_connect_bootstrap_servers\`. Connect's config, offset and status
  topics are created by the first worker with the cluster's replication, min(3, brokers), unless
  \`kafka_connect_replication_factor\` is set; 25 offset and 5 status partitions (Apache's defaults).
- Converters: JsonConverter for keys and values, schemas enabled (Apache's sample); plugin.path
  /opt/kafka-connect/plugins (created; put Debezium and other plugins there), plus the release's FileStream example
  connectors (libs/connect-file-<version>.jar, off the class path since Kafka 3.2) with
  \`kafka_connect_file_connectors: true\`.
- Health: the REST API answers \`/\` with the Kafka cluster id and \`/connectors\` with a list (a worker that has
  not joined its group answers 409 there). A changed setting restarts one worker at a time, each healthy again
  before the next: connectors and tasks rebalance onto the others meanwhile.
`;

export default defineRole({
  name: 'kafka-connect',
  doc: DOC,
  description: 'Kafka Connect distributed workers: connect-distributed.properties (brokers from the kafka group, internal topics replicated like the cluster), REST health, rolling restarts',
  dependsOn: ['java'],
  vars: {
    kafka_connect_version: v.str({ default: '3.9.0', doc: 'Kafka release (Scala 2.13) Connect runs from, from the artifact catalogue (src/artifacts); the seeds: 3.9.0' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces the official download site (same release path); empty: the official URL' }),
    kafka_connect_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: 'sha512 of the archive at the mirror; empty: the pinned sha512 of the official release' }),
    kafka_connect_install_root: v.str({ default: '/opt/kafka-connect', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    kafka_connect_user: v.str({ default: 'kafka-connect', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (and group)' }),
    kafka_connect_inventory_group: v.str({ default: 'kafka_connect', doc: 'inventory group of the workers' }),
    kafka_connect_group_id: v.str({ default: 'connect-cluster', pattern: '^[A-Za-z0-9._-]+$', doc: "group.id of the Connect cluster (Apache's default)" }),
    kafka_connect_bootstrap_group: v.str({ default: 'kafka', doc: 'inventory group of the brokers (bootstrap.servers from its hosts and their kafka_port)' }),
    kafka_connect_bootstrap_servers: v.list<string>({ type: 'string', pattern: '^[^\\s,]+:[0-9]+$' }, { default: [], doc: 'bootstrap.servers as host:port; empty: from kafka_connect_bootstrap_group' }),
    kafka_connect_port: v.port({ default: 8083, doc: 'REST API port (the seed: 8083)' }),
    kafka_connect_config_topic: v.str({ default: 'connect-configs', doc: 'config.storage.topic' }),
    kafka_connect_offset_topic: v.str({ default: 'connect-offsets', doc: 'offset.storage.topic' }),
    kafka_connect_status_topic: v.str({ default: 'connect-status', doc: 'status.storage.topic' }),
    kafka_connect_offset_partitions: v.int({ default: 25, minimum: 1, doc: 'offset.storage.partitions' }),
    kafka_connect_status_partitions: v.int({ default: 5, minimum: 1, doc: 'status.storage.partitions' }),
    kafka_connect_replication_factor: v.int({ default: 0, minimum: 0, doc: "replication of the three internal topics; 0: the cluster's, min(3, brokers)" }),
    kafka_connect_key_converter: v.str({ default: 'org.apache.kafka.connect.json.JsonConverter', doc: 'key.converter' }),
    kafka_connect_value_converter: v.str({ default: 'org.apache.kafka.connect.json.JsonConverter', doc: 'value.converter' }),
    kafka_connect_schemas_enable: v.bool({ default: true, doc: 'key/value.converter.schemas.enable' }),
    kafka_connect_plugin_path: v.list<string>({ type: 'string', pattern: '^/' }, { default: ['/opt/kafka-connect/plugins'], doc: 'plugin.path directories (created)' }),
    kafka_connect_file_connectors: v.bool({ default: false, doc: "add the release's FileStream example connectors (libs/connect-file-VERSION.jar) to plugin.path" }),
    kafka_connect_offset_flush_interval_ms: v.int({ default: 10000, minimum: 100, doc: 'offset.flush.interval.ms' }),
    kafka_connect_extra_properties: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more connect-distributed.properties entries' }),
    kafka_connect_heap: v.str({ default: '2g', pattern: '^[0-9]+[mg]$', doc: 'JVM heap (-Xms = -Xmx); the seed gives the worker 4 GB in all' }),
    kafka_connect_limit_nofile: v.int({ default: 100000, minimum: 1024, doc: 'LimitNOFILE of the unit' }),
    kafka_connect_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds a worker may take to answer its REST API after a (re)start' }),
  },

  validate: ({ vars, group, host }) => {
    const problems: string[] = [];
    if (!group(vars.kafka_connect_inventory_group).some((p) => p.name === host.name)) {
      problems.push(`host ${host.name} runs kafka-connect but is not in the inventory group ${vars.kafka_connect_inventory_group}, whose hosts are the workers`);
    }
    if (!vars.kafka_connect_bootstrap_servers.length && !group(vars.kafka_connect_bootstrap_group).length) {
      problems.push(`kafka-connect needs brokers: the inventory group ${vars.kafka_connect_bootstrap_group} is empty; add the brokers to it or set kafka_connect_bootstrap_servers`);
    }
    return problems;
  },

  declares: ({ vars }) => ({
    ports: [{ port: vars.kafka_connect_port, variable: 'kafka_connect_port', description: 'Kafka Connect REST API' }],
    memoryMb: 2 * heapMb(vars.kafka_connect_heap), // heap plus as much for the connectors' threads, buffers and native memory (the seed: 4 GB with 2g)
    serves: [vars.kafka_connect_inventory_group],
  }),

  rollout: ({ vars, host }) => ({
    services: ['kafka-connect'],
    health: { command: restHealthy(host.address, vars.kafka_connect_port), description: 'worker back: REST API answers / and /connectors', timeoutSec: vars.kafka_connect_health_timeout, intervalSec: 3 },
    serial: 1,
  }),

  operations: ({ vars, host, group, exported }) => {
    const cv = vars as unknown as ConnectVars;
    const rel = kafkaRelease({ version: vars.kafka_connect_version, root: vars.kafka_connect_install_root, mirror: vars.artifact_mirror, sha512: vars.kafka_connect_sha512 });
    const javaHome = String(exported('java').java_home);
    const user = vars.kafka_connect_user;
    const brokers = group(vars.kafka_connect_bootstrap_group);
    const bootstrap = bootstrapServers(cv, brokers);
    return [
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: '/var/lib/kafka-connect', createHome: false, shell: '/usr/sbin/nologin' }),
      rel.op,
      ops.dir({ path: '/etc/kafka-connect', owner: 'root', group: user, mode: 0o750 }),
      ops.dir({ path: '/var/log/kafka-connect', owner: user, group: user, mode: 0o750 }),
      ...vars.kafka_connect_plugin_path.map((d) => ops.dir({ path: d, owner: 'root', group: user, mode: 0o755 })),
      ops.file({
        path: CONFIG,
        content: connectProperties(cv, { address: host.address, bootstrap, brokers: vars.kafka_connect_bootstrap_servers.length || brokers.length, home: rel.home }),
        owner: 'root',
        group: user,
        mode: 0o640,
        notify: ['kafka-connect'],
      }),
      ops.unit({ name: 'kafka-connect.service', content: unitFile(cv, { javaHome, home: rel.home, config: CONFIG }), notify: ['kafka-connect'], resources: serviceLimits(host.vars, 'kafka-connect') }),
      ops.service({ name: 'kafka-connect', enabled: true, state: 'started' }),
      ops.waitForPort({ host: host.address, port: vars.kafka_connect_port, timeoutS: vars.kafka_connect_health_timeout }),
      ops.healthCheck({
        name: `Kafka Connect worker answers its REST API on ${vars.kafka_connect_port} (/ and /connectors)`,
        command: restHealthy(host.address, vars.kafka_connect_port),
        timeoutS: vars.kafka_connect_health_timeout,
        intervalS: 3,
      }),
    ];
  },
});
