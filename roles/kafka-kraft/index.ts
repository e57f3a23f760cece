/**
 * kafka-kraft: Apache Kafka in KRaft mode (no ZooKeeper), as datalyptica-minimal-5vm.md (3 combined broker +
 * controller nodes), datalyptica-enterprise-50vm.md (3 controllers among 5 brokers) and flink-kafka-4vcpu-8gb.md
 * (one broker) run it.
 *
 * Install order, as a Kafka operator does it: service user, the release archive (official URL + pinned sha512, or
 * `artifact_mirror`), directories, `server.properties`, storage formatted once with the cluster's id, the unit,
 * start, health.
 *
 * - The quorum is static (`controller.quorum.voters` from the hosts whose `kafka_process_roles` include
 *   controller): it is what the seeds write, it works on 3.6 and 3.9 alike, and 3.9's dynamic quorum (KIP-853)
 *   cannot be converted from a static one and still needs explicit add/remove-controller calls to change members,
 *   so it buys nothing here.
 * - The cluster id is a cluster value: read from `meta.properties` of any formatted log dir of the group, generated
 *   once (like `kafka-storage.sh random-uuid`) when none has one, written into storage only where it never was
 *   (`format --ignore-formatted`, never again). A node whose log dir names another cluster id stops, showing both
 *   ids; the others converge.
 * - A changed setting restarts one broker at a time, each back with no under-replicated partition before the next,
 *   the active controller last.
 */
import { ops, q, serviceLimits } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  brokerBackInIsr,
  CLUSTER_ID,
  cliEnv,
  clusterNodes,
  isBroker,
  isController,
  isQuorumLeader,
  layoutProblems,
  newClusterId,
  nodeIdOf,
  quorumHealthy,
  readClusterId,
  serverProperties,
  unitFile,
  type KafkaVars,
} from './render.js';
import { heapMb, kafkaRelease } from './release.js';

const CONFIG = '/etc/kafka/server.properties';

export default defineRole({
  name: 'kafka-kraft',
  description: 'Apache Kafka in KRaft mode: combined or split controllers, cluster id kept, rolling restarts behind the ISR',
  dependsOn: ['java'],
  vars: {
    kafka_version: v.str({ default: '3.9.0', doc: 'Kafka release (Scala 2.13), from the artifact catalogue (src/artifacts)' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces the official download site (same release path); empty: the official URL' }),
    kafka_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: 'sha512 of the archive at the mirror; empty: the pinned sha512 of the official release' }),
    kafka_install_root: v.str({ default: '/opt/kafka', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    kafka_user: v.str({ default: 'kafka', doc: 'service user (and group)' }),
    kafka_group: v.str({ default: 'kafka', doc: 'inventory group of the cluster: its hosts are the nodes, the controllers among them the quorum' }),
    kafka_node_id: v.int({ default: 0, minimum: 0, doc: 'node.id; 0: the host variable node_id' }),
    kafka_process_roles: v.oneOf(['broker,controller', 'broker', 'controller'] as const, { default: 'broker,controller', doc: 'process.roles of this node' }),
    kafka_cluster_id: v.str({ default: '', pattern: '^(|[A-Za-z0-9_-]{22})$', emptyAllowed: true, doc: 'KRaft cluster id; empty: read from the nodes, generated on the first deploy' }),
    kafka_port: v.port({ default: 9092, doc: 'broker listener (PLAINTEXT), advertised at the host address' }),
    kafka_controller_port: v.port({ default: 9093, doc: 'controller listener (CONTROLLER)' }),
    kafka_log_dirs: v.list<string>({ type: 'string', pattern: '^/' }, { default: ['/data/kafka/logs'], doc: 'log.dirs' }),
    kafka_heap: v.str({ default: '16g', pattern: '^[0-9]+[mg]$', doc: 'JVM heap (-Xms = -Xmx); the seeds give 16 GB' }),
    kafka_default_replication_factor: v.int({ default: 0, minimum: 0, doc: 'default.replication.factor; 0: 3 (1 for a single broker)' }),
    kafka_min_insync_replicas: v.int({ default: 0, minimum: 0, doc: 'min.insync.replicas; 0: 2 (1 for a single broker)' }),
    kafka_num_partitions: v.int({ default: 0, minimum: 0, doc: 'num.partitions; 0: 12 (6 for a single broker, flink-kafka-4vcpu-8gb.md)' }),
    kafka_log_retention_hours: v.int({ default: 0, minimum: 0, doc: 'log.retention.hours; 0: 168 (24 for a single broker)' }),
    kafka_log_segment_bytes: v.int({ default: 1073741824, minimum: 1048576, doc: 'log.segment.bytes (1 GiB)' }),
    kafka_log_retention_check_interval_ms: v.int({ default: 300000, minimum: 1000, doc: 'log.retention.check.interval.ms' }),
    kafka_num_network_threads: v.int({ default: 8, minimum: 1, doc: 'num.network.threads' }),
    kafka_num_io_threads: v.int({ default: 16, minimum: 1, doc: 'num.io.threads' }),
    kafka_socket_send_buffer_bytes: v.int({ default: 1048576, minimum: -1, doc: 'socket.send.buffer.bytes' }),
    kafka_socket_receive_buffer_bytes: v.int({ default: 1048576, minimum: -1, doc: 'socket.receive.buffer.bytes' }),
    kafka_compression_type: v.oneOf(['lz4', 'snappy', 'gzip', 'zstd', 'producer', 'uncompressed'] as const, { default: 'lz4', doc: 'compression.type' }),
    kafka_unclean_leader_election: v.bool({ default: false, doc: 'unclean.leader.election.enable' }),
    kafka_extra_properties: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more server.properties entries' }),
    kafka_limit_nofile: v.int({ default: 100000, minimum: 1024, doc: 'LimitNOFILE of the unit' }),
    kafka_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds a node may take to be healthy after a (re)start' }),
  },

  validate: ({ group, vars }) => layoutProblems(clusterNodes(group(vars.kafka_group)), vars.kafka_group),

  declares: ({ vars }) => {
    const ports = [];
    if (vars.kafka_process_roles.includes('broker')) ports.push({ port: vars.kafka_port, variable: 'kafka_port', description: 'Kafka broker (PLAINTEXT)' });
    if (vars.kafka_process_roles.includes('controller')) ports.push({ port: vars.kafka_controller_port, variable: 'kafka_controller_port', description: 'KRaft controller' });
    return {
      ports,
      memoryMb: heapMb(vars.kafka_heap) + 1024, // heap plus page-cache headroom the broker needs beyond it
      dataDirs: vars.kafka_log_dirs,
      quorum: vars.kafka_process_roles.includes('controller') ? [{ group: `${vars.kafka_group}_controllers`, kind: 'raft' as const, protects: 'Kafka metadata (topic changes, leader elections)' }] : [],
      serves: [vars.kafka_group],
    };
  },

  clusterValues: ({ vars }) => [
    {
      name: 'kafka_cluster_id',
      doc: 'KRaft cluster id',
      group: vars.kafka_group,
      read: readClusterId(vars.kafka_log_dirs),
      generate: newClusterId,
      pattern: CLUSTER_ID,
      override: 'kafka_cluster_id',
      conflicts: 'stop-minority',
    },
  ],

  rollout: ({ vars, host, group, exported }) => {
    const home = `${vars.kafka_install_root}/current`;
    const env = cliEnv(String(exported('java').java_home));
    const id = nodeIdOf(host.vars)!;
    const broker = vars.kafka_process_roles.includes('broker');
    const bootstrap = broker ? `--bootstrap-server ${q(`${host.address}:${vars.kafka_port}`)}` : `--bootstrap-controller ${q(`${host.address}:${vars.kafka_controller_port}`)}`;
    const nodes = clusterNodes(group(vars.kafka_group));
    return {
      services: ['kafka'],
      health: broker
        ? { command: brokerBackInIsr(home, env, host.address, vars.kafka_port), description: `broker ${id} back with no under-replicated partition`, timeoutSec: vars.kafka_health_timeout, intervalSec: 3 }
        : { command: quorumHealthy(home, env, bootstrap, nodes.filter(isController).map((n) => n.id), []), description: `controller ${id} back in the quorum`, timeoutSec: vars.kafka_health_timeout, intervalSec: 3 },
      leader: isQuorumLeader(home, env, bootstrap, id),
    };
  },

  operations: ({ vars, host, group, exported, cluster }) => {
    const kv = vars as unknown as KafkaVars;
    const rel = kafkaRelease({ version: vars.kafka_version, root: vars.kafka_install_root, mirror: vars.artifact_mirror, sha512: vars.kafka_sha512 });
    const javaHome = String(exported('java').java_home);
    const home = rel.home;
    const nodes = clusterNodes(group(vars.kafka_group));
    const self = nodes.find((n) => n.host === host.name) ?? { host: host.name, address: host.address, id: nodeIdOf(host.vars) ?? -1, roles: vars.kafka_process_roles };
    const id = cluster('kafka_cluster_id');
    const env = cliEnv(javaHome);
    const user = vars.kafka_user;
    const parents = [...new Set(vars.kafka_log_dirs.map((d) => d.replace(/\/[^/]+\/?$/, '')).filter((p) => p && p !== '/' && !vars.kafka_log_dirs.includes(p)))];
    const bootstrap = isBroker(self) ? `--bootstrap-server ${q(`${host.address}:${vars.kafka_port}`)}` : `--bootstrap-controller ${q(`${host.address}:${vars.kafka_controller_port}`)}`;
    return [
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: '/var/lib/kafka', createHome: false, shell: '/usr/sbin/nologin' }),
      rel.op,
      ops.dir({ path: '/etc/kafka', owner: 'root', group: user, mode: 0o750 }),
      ops.dir({ path: '/var/log/kafka', owner: user, group: user, mode: 0o750 }),
      ...parents.map((p) => ops.dir({ path: p, owner: user, group: user, mode: 0o750 })),
      ...vars.kafka_log_dirs.map((d) => ops.dir({ path: d, owner: user, group: user, mode: 0o750 })),
      ops.file({ path: CONFIG, content: serverProperties(kv, self, nodes), owner: 'root', group: user, mode: 0o640, notify: ['kafka'] }),
      // storage: formatted only where it never was (a log dir with meta.properties is never formatted again)
      ops.command({
        name: `format KRaft storage (cluster ${id})`,
        run: `runuser -u ${q(user)} -- env ${env} LOG_DIR=/var/log/kafka ${home}/bin/kafka-storage.sh format --cluster-id=${q(id)} --config ${CONFIG} --ignore-formatted`,
        unless: vars.kafka_log_dirs.map((d) => `[ -f ${q(`${d}/meta.properties`)} ]`).join(' && '),
      }),
      // a limit the inventory gives this service (resource_limits.kafka: { memory_mb, cpus }) becomes MemoryMax= / CPUQuota=
      ops.unit({ name: 'kafka.service', content: unitFile(kv, javaHome, home, CONFIG), notify: ['kafka'], resources: serviceLimits(host.vars, 'kafka') }),
      ops.service({ name: 'kafka', enabled: true, state: 'started' }),
      ...(isBroker(self) ? [ops.waitForPort({ host: host.address, port: vars.kafka_port, timeoutS: vars.kafka_health_timeout })] : []),
      ...(isController(self) ? [ops.waitForPort({ host: host.address, port: vars.kafka_controller_port, timeoutS: vars.kafka_health_timeout })] : []),
      ops.healthCheck({
        name: `KRaft quorum has a leader and voters ${nodes.filter(isController).map((n) => n.id).join(',')}; nodes ${nodes.map((n) => n.id).join(',')} registered`,
        command: quorumHealthy(home, env, bootstrap, nodes.filter(isController).map((n) => n.id), nodes.map((n) => n.id)),
        timeoutS: vars.kafka_health_timeout,
        intervalS: 3,
      }),
    ];
  },
});
