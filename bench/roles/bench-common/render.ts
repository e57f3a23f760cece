/**
 * The files of the benchmark workload (../../../../shared/bench/ansible-baseline/WORKLOAD.md), rendered by
 * typed functions, one per file. Every function returns the exact bytes Ansible's templates produce
 * (LF line endings, exactly one trailing newline); test/unit/bench-role.test.ts compares them with the
 * reference copies in bench/reference/N5-bench-h01/.
 */

/** The role's inputs that the files depend on (the role's typed variables). */
export interface BenchSettings {
  user: string;
  version: string;
  clusterName: string;
  heapMb: number;
  sysctl: SysctlSetting[];
  limits: LimitSetting[];
  services: number[];
}

export interface SysctlSetting {
  key: string;
  value: string;
}

export interface LimitSetting {
  item: string;
  value: number;
}

/** One host of the cluster, as the files see it. */
export interface BenchNode {
  /** inventory name, e.g. `bench-h01` */
  name: string;
  /** `node_id` */
  id: number;
  /** the address other hosts reach it at (`ansible_host`) */
  ip: string;
}

/** Everything one host's files are rendered from. */
export interface BenchInput {
  settings: BenchSettings;
  self: BenchNode;
  /** the hosts of the cluster's group, in inventory order */
  nodes: BenchNode[];
}

/** Step 04: values computed on the controller from the whole group. */
export interface ClusterFacts {
  size: number;
  firstIp: string;
  /** `1@IP_1:9093,2@IP_2:9093,...` */
  quorumVoters: string;
}

export const HEADER = '# Managed by datalyptica common role - do not edit';

export const HOME = '/opt/datalyptica';

/** The workload's constants (WORKLOAD.md section 1): the role's variable defaults. */
export const WORKLOAD = {
  user: 'datalyptica',
  uid: 2500,
  gid: 2500,
  version: '1.0.0',
  clusterName: 'bench',
  heapMb: 1024,
  dirs: ['/data', '/data/kafka', '/data/spark', '/data/flink', '/data/trino', '/data/minio', HOME, `${HOME}/bin`, `${HOME}/releases`, '/var/log/datalyptica'],
  sysctl: [
    { key: 'net.core.somaxconn', value: '65535' },
    { key: 'net.ipv4.tcp_max_syn_backlog', value: '8192' },
    { key: 'net.ipv4.ip_local_port_range', value: '10000 65535' },
    { key: 'fs.file-max', value: '2097152' },
    { key: 'vm.max_map_count', value: '262144' },
    { key: 'vm.swappiness', value: '1' },
    { key: 'vm.overcommit_memory', value: '1' },
  ] as SysctlSetting[],
  limits: [
    { item: 'nofile', value: 65536 },
    { item: 'nproc', value: 32768 },
  ] as LimitSetting[],
  services: [1, 2, 3, 4, 5],
};

/** The settings the files depend on, from WORKLOAD. */
export const WORKLOAD_SETTINGS: BenchSettings = {
  user: WORKLOAD.user,
  version: WORKLOAD.version,
  clusterName: WORKLOAD.clusterName,
  heapMb: WORKLOAD.heapMb,
  sysctl: WORKLOAD.sysctl,
  limits: WORKLOAD.limits,
  services: WORKLOAD.services,
};

/** Lines joined with `\n`, plus exactly one trailing newline. */
export function text(...lines: Array<string | number | Array<string | number>>): string {
  return `${lines.flat().map(String).join('\n')}\n`;
}

export function clusterFacts(nodes: BenchNode[]): ClusterFacts {
  if (nodes.length === 0) throw new Error('the cluster group has no hosts');
  return {
    size: nodes.length,
    firstIp: nodes[0].ip,
    quorumVoters: nodes.map((n) => `${n.id}@${n.ip}:9093`).join(','),
  };
}

// ------------------------------------------------------------------ constant files

/** step 07 */
export const sudoers = (s: Pick<BenchSettings, 'user'>): string =>
  text(`${s.user} ALL=(root) NOPASSWD: /usr/bin/systemctl restart orch-bench-*`);

/** step 12 (A) */
export const healthScript = (s: Pick<BenchSettings, 'services'>): string =>
  text(
    '#!/bin/sh',
    '# datalyptica health probe',
    `for i in ${s.services.join(' ')}; do`,
    '  systemctl is-active --quiet orch-bench-$i || { echo "orch-bench-$i down"; exit 1; }',
    'done',
    'echo ok',
  );

/** step 13 (B) */
export const profileScript = (home: string): string => text(`export DATALYPTICA_HOME=${home}`, `export PATH="$PATH:${home}/bin"`);

/** step 19 */
export const tmpfilesConf = (s: Pick<BenchSettings, 'user'>): string => text(`d /run/datalyptica 0750 ${s.user} ${s.user} -`);

/** step 20 (C) */
export const logrotateConf = (): string =>
  text('/var/log/datalyptica/*.log {', '    daily', '    rotate 7', '    compress', '    missingok', '    notifempty', '    copytruncate', '}');

/** step 22 */
export const journaldConf = (): string => text('[Journal]', 'SystemMaxUse=512M', 'RateLimitBurst=10000');

/** step 40 */
export const deployedMarker = (s: Pick<BenchSettings, 'version'>): string => text(`version=${s.version}`);

// ------------------------------------------------------------------ OS tuning

/** step 14: every key, persisted (not loaded) */
export const sysctlConf = (s: Pick<BenchSettings, 'sysctl'>): string => text(HEADER, s.sysctl.map((x) => `${x.key} = ${x.value}`));

/** step 17 */
export const limitsConf = (s: Pick<BenchSettings, 'user' | 'limits'>): string =>
  text(HEADER, s.limits.flatMap((l) => [`${s.user} soft ${l.item} ${l.value}`, `${s.user} hard ${l.item} ${l.value}`]));

/** step 23 */
export const motd = (i: BenchInput): string =>
  text(`${i.self.name}: datalyptica ${i.settings.version} node ${i.self.id} of ${i.nodes.length} (${i.self.id === 1 ? 'controller' : 'worker'})`);

// ------------------------------------------------------------------ the ten per-host config files (steps 24-33)

const replication = (i: BenchInput) => Math.min(i.nodes.length, 3);

export const serverProperties = (i: BenchInput): string => {
  const c = clusterFacts(i.nodes);
  const ip = i.self.ip;
  return text(
    HEADER,
    'process.roles=broker,controller',
    `node.id=${i.self.id}`,
    `controller.quorum.voters=${c.quorumVoters}`,
    `listeners=PLAINTEXT://${ip}:9092,CONTROLLER://${ip}:9093`,
    `advertised.listeners=PLAINTEXT://${ip}:9092`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs=/data/kafka',
    'num.partitions=6',
    `default.replication.factor=${replication(i)}`,
    `offsets.topic.replication.factor=${replication(i)}`,
  );
};

export const sparkDefaults = (i: BenchInput): string =>
  text(
    HEADER,
    `spark.master spark://${clusterFacts(i.nodes).firstIp}:7077`,
    `spark.driver.host ${i.self.ip}`,
    'spark.local.dir /data/spark',
    'spark.eventLog.enabled true',
    'spark.eventLog.dir file:///var/log/datalyptica/spark-events',
    `spark.executor.memory ${Math.floor(i.settings.heapMb / 2)}m`,
  );

export const sparkEnv = (i: BenchInput): string =>
  text(HEADER, `SPARK_LOCAL_IP=${i.self.ip}`, `SPARK_PUBLIC_DNS=${i.self.name}`, 'SPARK_WORKER_DIR=/data/spark/work', 'SPARK_WORKER_CORES=2');

export const flinkConf = (i: BenchInput): string =>
  text(
    HEADER,
    `jobmanager.rpc.address: ${clusterFacts(i.nodes).firstIp}`,
    'jobmanager.rpc.port: 6123',
    `taskmanager.host: ${i.self.ip}`,
    'taskmanager.numberOfTaskSlots: 2',
    `taskmanager.memory.process.size: ${i.settings.heapMb}m`,
    'io.tmp.dirs: /data/flink/tmp',
    `high-availability.cluster-id: ${i.settings.clusterName}`,
  );

export const trinoNode = (i: BenchInput): string =>
  text(HEADER, `node.environment=${i.settings.clusterName}`, `node.id=${i.self.name}-${String(i.self.id).padStart(4, '0')}`, 'node.data-dir=/data/trino');

export const trinoConfig = (i: BenchInput): string =>
  text(
    HEADER,
    `coordinator=${i.self.id === 1}`,
    'node-scheduler.include-coordinator=false',
    'http-server.http.port=8080',
    `discovery.uri=http://${clusterFacts(i.nodes).firstIp}:8080`,
    `query.max-memory-per-node=${Math.floor(i.settings.heapMb / 4)}MB`,
  );

export const minioEnv = (i: BenchInput): string =>
  text(
    HEADER,
    `MINIO_VOLUMES="${i.nodes.map((n) => `http://${n.ip}:9000/data/minio`).join(' ')}"`,
    `MINIO_OPTS="--address ${i.self.ip}:9000 --console-address :9001"`,
    `MINIO_ROOT_USER=${i.settings.user}`,
  );

export const nodeExporter = (i: BenchInput): string =>
  text(HEADER, 'scrape_labels:', `  cluster: ${i.settings.clusterName}`, `  host: ${i.self.name}`, `  node_id: "${i.self.id}"`, `  ip: ${i.self.ip}`);

export const clusterYml = (i: BenchInput): string =>
  text(
    HEADER,
    `cluster: ${i.settings.clusterName}`,
    `version: ${i.settings.version}`,
    `size: ${i.nodes.length}`,
    'nodes:',
    i.nodes.flatMap((n) => [`  - name: ${n.name}`, `    id: ${n.id}`, `    ip: ${n.ip}`]),
  );

export const jvmOptions = (i: BenchInput): string =>
  text(
    HEADER,
    `-Xms${i.settings.heapMb}m`,
    `-Xmx${i.settings.heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=200',
    '-XX:HeapDumpPath=/var/log/datalyptica',
    `-Ddatalyptica.node.id=${i.self.id}`,
  );

/** The ten config files of /etc/datalyptica, in step order (24-33). */
export const CONFIG_FILES: ReadonlyArray<readonly [name: string, render: (i: BenchInput) => string]> = [
  ['server.properties', serverProperties],
  ['spark-defaults.conf', sparkDefaults],
  ['spark-env.sh', sparkEnv],
  ['flink-conf.yaml', flinkConf],
  ['trino-node.properties', trinoNode],
  ['trino-config.properties', trinoConfig],
  ['minio.env', minioEnv],
  ['node-exporter.yml', nodeExporter],
  ['cluster.yml', clusterYml],
  ['jvm.options', jvmOptions],
];

// ------------------------------------------------------------------ services

/** step 34 */
export const serviceDefaults = (i: BenchInput): string =>
  text(HEADER, `NODE_ID=${i.self.id}`, `NODE_IP=${i.self.ip}`, `CLUSTER=${i.settings.clusterName}`);

/** step 35 (D) */
export const unitFile = (k: number): string =>
  text(
    HEADER,
    '[Unit]',
    `Description=Datalyptica bench service ${k}`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    'EnvironmentFile=/etc/default/orch-bench',
    'ExecStart=/bin/sleep infinity',
    'Restart=on-failure',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );

// ------------------------------------------------------------------ every managed file

export interface ManagedFile {
  path: string;
  content: string;
  owner: string;
  group: string;
  /** octal, e.g. `0640` */
  mode: string;
}

/**
 * Every whole file the workload manages on one host, in step order. `/etc/environment` (step 18) is
 * edited, not owned: on the stock image (empty file) the result is the single line returned here too.
 * Used by the role, by the unit test, and by the benchmark's no-check floor scripts.
 */
export function managedFiles(i: BenchInput): ManagedFile[] {
  const s = i.settings;
  const root = (path: string, content: string, mode = '0644'): ManagedFile => ({ path, content, owner: 'root', group: 'root', mode });
  const conf = (path: string, content: string): ManagedFile => ({ path, content, owner: 'root', group: s.user, mode: '0640' });
  return [
    root('/etc/sudoers.d/datalyptica', sudoers(s), '0440'),
    root(`${HOME}/bin/datalyptica-health`, healthScript(s), '0755'),
    root('/etc/profile.d/datalyptica.sh', profileScript(HOME)),
    root('/etc/sysctl.d/99-datalyptica.conf', sysctlConf(s)),
    root('/etc/security/limits.d/99-datalyptica.conf', limitsConf(s)),
    root('/etc/environment', environmentLine(HOME) + '\n'),
    root('/etc/tmpfiles.d/datalyptica.conf', tmpfilesConf(s)),
    root('/etc/logrotate.d/datalyptica', logrotateConf()),
    root('/etc/systemd/journald.conf.d/99-datalyptica.conf', journaldConf()),
    root('/etc/motd', motd(i)),
    ...CONFIG_FILES.map(([name, render]) => conf(`/etc/datalyptica/${name}`, render(i))),
    root('/etc/default/orch-bench', serviceDefaults(i)),
    ...s.services.map((k) => root(`/etc/systemd/system/orch-bench-${k}.service`, unitFile(k))),
    conf('/etc/datalyptica/.deployed', deployedMarker(s)),
  ];
}

/** step 18: the line kept in /etc/environment */
export const environmentLine = (home: string): string => `DATALYPTICA_HOME=${home}`;
