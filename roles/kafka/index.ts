/** kafka (ZooKeeper mode): see DOC below (also shown by `orch roles show kafka`). */
import { ops, serviceLimits } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { brokerBackInIsr, cliEnv } from '../kafka-kraft/render.js';
import { heapMb, kafkaRelease } from '../kafka-kraft/release.js';
import { brokerIdProblems, brokers, brokersRegistered, isController, serverProperties, unitFile, zookeeperConnect, type ZkKafkaVars } from './render.js';

const DOC = `
kafka: Apache Kafka in ZooKeeper mode, as spark-kafka-cluster-aws.md runs it on its master node ("Role: kafka" and
"Service Configuration: Apache Kafka"); its values are the defaults: Kafka 3.6.1 (Scala 2.13), broker.id 1,
listeners=PLAINTEXT://:9092 advertised at the host's address, 3 network / 8 I/O threads, log.dirs
/var/lib/kafka-logs, num.partitions 1, one recovery thread per dir, internal topics with replication 1,
retention 168 h, 1 GiB segments, zookeeper.connect localhost:2181 (timeout 18 s), heap -Xmx1G -Xms1G, user spark,
a unit after and requiring zookeeper.service, restarted on failure. For KRaft (3.9, the Datalyptica seeds) use the
kafka-kraft role; both install the same release archive the same way (roles/kafka-kraft/release.ts).

- Release: Apache's kafka_2.13-<version>.tgz from the artifact catalogue (official URL, pinned sha512) or
  \`artifact_mirror\` (+ \`kafka_sha512\`), unpacked under /opt/kafka/releases/<version>, linked as /opt/kafka/current
  (the seed's /opt/kafka home: its bin/ is /opt/kafka/current/bin). The config is /etc/kafka/server.properties
  rather than the seed's /opt/kafka/config/server.properties, which is inside the release and would be left behind
  by an upgrade.
- Brokers: every host of the inventory group \`kafka_group\` (kafka); broker.id from the host's \`kafka_broker_id\`,
  else its \`node_id\` (one broker without either: 1, the seed), checked unique offline. More than one broker: the
  internal topics (and default.replication.factor) get min(3, brokers) replicas, transaction min ISR 2 from 3.
- ZooKeeper: \`zookeeper.connect\` lists the hosts of the group \`kafka_zookeeper_group\` (zookeeper, the zookeeper
  role's) at each one's \`zookeeper_client_port\`; the seed's \`localhost:2181\` when that ensemble is this host
  alone; \`kafka_zookeeper_connect\` overrides it, \`kafka_zookeeper_chroot\` appends a path. Where ZooKeeper runs on
  the same host the unit has After= and Requires=zookeeper.service (the seed's; systemd then stops and restarts the
  broker with ZooKeeper: \`kafka_zookeeper_unit_dependency: wants\` only orders it).
- Health: the port listens, and every broker of the group is registered in ZooKeeper under /brokers/ids (each
  broker's ephemeral znode, read with Kafka's zookeeper-shell.sh). A changed setting restarts one broker at a time,
  each registered again with no under-replicated partition before the next, the controller (/controller) last.
- No ExecStop: kafka-server-stop.sh signals every kafka.Kafka of the machine and returns at once; systemd's SIGTERM
  to the unit's JVM is the same controlled shutdown, waited for (TimeoutStopSec 180). LimitNOFILE 100000.
`;

export default defineRole({
  name: 'kafka',
  doc: DOC,
  description: 'Apache Kafka in ZooKeeper mode (spark-kafka-cluster-aws.md): server.properties, zookeeper.connect from the zookeeper group, unit requiring zookeeper.service, /brokers/ids health, rolling restarts',
  dependsOn: ['java'],
  vars: {
    kafka_version: v.str({ default: '3.6.1', doc: 'Kafka release (Scala 2.13) from the artifact catalogue (src/artifacts); the seed: 3.6.1' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces the official download site (same release path); empty: the official URL' }),
    kafka_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: 'sha512 of the archive at the mirror; empty: the pinned sha512 of the official release' }),
    kafka_install_root: v.str({ default: '/opt/kafka', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    kafka_user: v.str({ default: 'spark', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (the seed: spark, its app_user); created as a system user when missing' }),
    kafka_group: v.str({ default: 'kafka', doc: 'inventory group of the cluster: its hosts are the brokers' }),
    kafka_broker_id: v.int({ default: 0, minimum: 0, doc: "broker.id; 0: the host's node_id (a single broker: 1)" }),
    kafka_port: v.port({ default: 9092, doc: 'PLAINTEXT listener (listeners=PLAINTEXT://:PORT)' }),
    kafka_advertised_host: v.str({ default: '', emptyAllowed: true, doc: "host clients are told to use (advertised.listeners); empty: the host's address" }),
    kafka_zookeeper_group: v.str({ default: 'zookeeper', doc: 'inventory group of the ZooKeeper ensemble (the zookeeper role)' }),
    kafka_zookeeper_connect: v.str({ default: '', emptyAllowed: true, doc: 'zookeeper.connect as given; empty: from kafka_zookeeper_group' }),
    kafka_zookeeper_chroot: v.str({ default: '', pattern: '^(|/[A-Za-z0-9_./-]+)$', emptyAllowed: true, doc: 'ZooKeeper path the cluster lives under (e.g. /kafka); empty: the root, as the seed' }),
    kafka_zookeeper_connection_timeout_ms: v.int({ default: 18000, minimum: 1000, doc: 'zookeeper.connection.timeout.ms' }),
    kafka_zookeeper_unit_dependency: v.oneOf(['requires', 'wants', 'none'] as const, {
      default: 'requires',
      doc: 'where ZooKeeper runs on the same host: requires (the seed: After= + Requires=zookeeper.service), wants (After= + Wants=), none',
    }),
    kafka_log_dirs: v.list<string>({ type: 'string', pattern: '^/' }, { default: ['/var/lib/kafka-logs'], doc: 'log.dirs' }),
    kafka_num_network_threads: v.int({ default: 3, minimum: 1, doc: 'num.network.threads' }),
    kafka_num_io_threads: v.int({ default: 8, minimum: 1, doc: 'num.io.threads' }),
    kafka_num_partitions: v.int({ default: 1, minimum: 1, doc: 'num.partitions (default for new topics)' }),
    kafka_num_recovery_threads_per_data_dir: v.int({ default: 1, minimum: 1, doc: 'num.recovery.threads.per.data.dir' }),
    kafka_default_replication_factor: v.int({ default: 0, minimum: 0, doc: 'replication of the internal topics and default.replication.factor; 0: min(3, brokers) (the seed: 1)' }),
    kafka_log_retention_hours: v.int({ default: 168, minimum: 1, doc: 'log.retention.hours (7 days)' }),
    kafka_log_segment_bytes: v.int({ default: 1073741824, minimum: 1048576, doc: 'log.segment.bytes (1 GiB)' }),
    kafka_extra_properties: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more server.properties entries' }),
    kafka_heap: v.str({ default: '1G', pattern: '^[0-9]+[mMgG]$', doc: 'JVM heap, KAFKA_HEAP_OPTS=-XmxHEAP -XmsHEAP (the seed: 1G)' }),
    kafka_limit_nofile: v.int({ default: 100000, minimum: 1024, doc: 'LimitNOFILE of the unit' }),
    kafka_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds a broker may take to register after a (re)start' }),
  },

  validate: ({ vars, group, host }) => {
    const problems = brokerIdProblems(brokers(group(vars.kafka_group)), vars.kafka_group);
    if (!group(vars.kafka_group).some((p) => p.name === host.name)) problems.push(`host ${host.name} runs kafka but is not in the inventory group ${vars.kafka_group}, whose hosts are the brokers`);
    if (!vars.kafka_zookeeper_connect && group(vars.kafka_zookeeper_group).length === 0) {
      problems.push(`kafka (ZooKeeper mode) needs ZooKeeper: the inventory group ${vars.kafka_zookeeper_group} is empty; add the ensemble's hosts to it (role zookeeper) or set kafka_zookeeper_connect`);
    }
    return problems;
  },

  declares: ({ vars }) => ({
    ports: [{ port: vars.kafka_port, variable: 'kafka_port', description: 'Kafka broker (PLAINTEXT)' }],
    memoryMb: heapMb(vars.kafka_heap) + 1024, // heap plus page-cache headroom
    dataDirs: vars.kafka_log_dirs,
    serves: [vars.kafka_group],
  }),

  rollout: ({ vars, host, group, exported }) => {
    const home = `${vars.kafka_install_root}/current`;
    const env = cliEnv(String(exported('java').java_home));
    const zk = zookeeperConnect(vars, group(vars.kafka_zookeeper_group), host.name);
    const me = brokers(group(vars.kafka_group)).find((b) => b.host === host.name);
    const id = me?.id ?? -1;
    return {
      services: ['kafka'],
      health: {
        command: `${brokersRegistered(home, env, zk, [id])}\n${brokerBackInIsr(home, env, host.address, vars.kafka_port)}`,
        description: `broker ${id} registered in ZooKeeper again, no under-replicated partition`,
        timeoutSec: vars.kafka_health_timeout,
        intervalSec: 3,
      },
      leader: isController(home, env, zk, id),
    };
  },

  operations: ({ vars, host, group, exported }) => {
    const kv = vars as unknown as ZkKafkaVars;
    const rel = kafkaRelease({ version: vars.kafka_version, root: vars.kafka_install_root, mirror: vars.artifact_mirror, sha512: vars.kafka_sha512 });
    const javaHome = String(exported('java').java_home);
    const user = vars.kafka_user;
    const config = '/etc/kafka/server.properties';
    const all = brokers(group(vars.kafka_group));
    const me = all.find((b) => b.host === host.name) ?? { host: host.name, address: host.address, id: undefined };
    const zkHosts = group(vars.kafka_zookeeper_group);
    const zk = zookeeperConnect(vars, zkHosts, host.name);
    const env = cliEnv(javaHome);
    const ids = all.map((b) => b.id ?? -1);
    // the seed's spark user is shared with ZooKeeper (and Spark): where the zookeeper role of this host creates it, it is its
    const zkMakesUser = zkHosts.some((p) => p.name === host.name) && host.vars.zookeeper_user === user;
    return [
      ...(zkMakesUser ? [] : [ops.user({ name: user, system: true, createHome: false })]),
      rel.op,
      ops.dir({ path: '/etc/kafka', owner: 'root', group: user, mode: 0o750 }),
      ops.dir({ path: '/var/log/kafka', owner: user, group: user, mode: 0o750 }),
      ...vars.kafka_log_dirs.map((d) => ops.dir({ path: d, owner: user, group: user, mode: 0o750 })),
      ops.file({
        path: config,
        content: serverProperties(kv, { ...me, advertised: vars.kafka_advertised_host || host.address }, all.length, zk),
        owner: 'root',
        group: user,
        mode: 0o640,
        notify: ['kafka'],
      }),
      ops.unit({
        name: 'kafka.service',
        content: unitFile(kv, { javaHome, home: rel.home, config, zookeeperHere: zkHosts.some((p) => p.name === host.name) }),
        notify: ['kafka'],
        resources: serviceLimits(host.vars, 'kafka'),
      }),
      ops.service({ name: 'kafka', enabled: true, state: 'started' }),
      ops.waitForPort({ host: host.address, port: vars.kafka_port, timeoutS: vars.kafka_health_timeout }),
      ops.healthCheck({
        name: `brokers ${ids.join(',')} registered in ZooKeeper (${zk}) under /brokers/ids`,
        command: brokersRegistered(rel.home, env, zk, ids),
        timeoutS: vars.kafka_health_timeout,
        intervalS: 3,
      }),
    ];
  },
});

