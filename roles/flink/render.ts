/**
 * flink renderers: the cluster's layout from the inventory (JobManagers, TaskManager instances per host, their
 * resource ids and ports), Flink 1.20's `config.yaml` for the JobManager (and clients) and for the TaskManagers,
 * Flink's memory arithmetic (the checks Flink 1.20 makes at start, done offline), the systemd units and the health
 * commands. Pure, unit-tested against flink-kafka-4vcpu-8gb.md, datalyptica-minimal-5vm.md and
 * datalyptica-enterprise-50vm.md.
 */
import { stringify } from 'yaml';
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/quote.js';

export interface FlinkVars {
  flink_version: string;
  flink_install_root: string;
  flink_user: string;
  flink_jobmanager_group: string;
  flink_taskmanager_group: string;
  flink_jobmanager_rpc_port: number;
  flink_blob_port: number;
  flink_rest_port: number;
  flink_jobmanager_memory_process_size: string;
  flink_jobmanager_memory_heap_size: string;
  flink_jobmanager_memory_jvm_metaspace_size: string;
  flink_jobmanager_memory_off_heap_size: string;
  flink_taskmanager_instances: number;
  flink_taskmanager_slots: number;
  flink_taskmanager_memory_process_size: string;
  flink_taskmanager_memory_framework_heap_size: string;
  flink_taskmanager_memory_task_heap_size: string;
  flink_taskmanager_memory_managed_size: string;
  flink_taskmanager_memory_jvm_metaspace_size: string;
  flink_taskmanager_rpc_port: number;
  flink_taskmanager_data_port: number;
  flink_parallelism_default: number;
  flink_data_dir: string;
  flink_state_backend: 'hashmap' | 'rocksdb';
  flink_checkpoints_dir: string;
  flink_savepoints_dir: string;
  flink_checkpoint_interval: string;
  flink_ha: 'none' | 'zookeeper';
  flink_ha_storage_dir: string;
  flink_ha_zookeeper_quorum: string;
  flink_ha_zookeeper_group: string;
  flink_ha_cluster_id: string;
  flink_plugins: string[];
  flink_extra_config: Record<string, string | number | boolean>;
  flink_limit_nofile: number;
  flink_health_timeout: number;
}

export const CONF_DIR = '/etc/flink/conf';
export const TM_CONF_DIR = '/etc/flink/taskmanager';
export const LOG_DIR = '/var/log/flink';
export const STATE_DIR = '/var/lib/flink';
export const REGISTERED_SCRIPT = '/usr/local/libexec/orch-flink-registered';

/** the files of the release's conf/ each config dir links to (the start scripts name them by path) */
export const LOGGING_FILES = ['log4j-console.properties', 'log4j-cli.properties', 'log4j.properties', 'log4j-session.properties', 'logback-console.xml', 'logback.xml', 'logback-session.xml'];

/**
 * Flink 1.20's own `env.java.opts.all` (its conf/config.yaml): the module opens Flink needs on Java 17. Kept in every
 * rendered config.yaml, which replaces the release's file.
 */
export const JAVA17_OPTS = [
  '--add-exports=java.base/sun.net.util=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.text=ALL-UNNAMED',
  '--add-opens=java.base/java.time=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED',
].join(' ');

// ---------------------------------------------------------------------------------------------------------------
// memory sizes

export const SIZE = '^[0-9]+(b|k|kb|m|mb|g|gb)$';
const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** `1536m` / `2g` / `268435456b` in bytes (Flink's MemorySize units, lower case) */
export function bytesOf(size: string): number {
  const m = /^([0-9]+)\s*([a-z]+)$/.exec(size.trim().toLowerCase());
  if (!m || !(m[2] in UNIT_BYTES)) throw new Error(`memory size ${JSON.stringify(size)}: expected a number with b, k, m or g (e.g. 1536m)`);
  return Number(m[1]) * UNIT_BYTES[m[2]];
}
export const mbOf = (size: string) => bytesOf(size) / 1024 ** 2;
const mb = (bytes: number) => `${Math.round(bytes / 1024 ** 2)}m`;

const MB = 1024 ** 2;
// Flink 1.20's defaults for what the seeds leave out
const JM_OVERHEAD = { fraction: 0.1, min: 192 * MB, max: 1024 * MB };
const TM_OVERHEAD = { fraction: 0.1, min: 192 * MB, max: 1024 * MB };
const TM_NETWORK = { fraction: 0.1, min: 64 * MB, max: 1024 * MB };
const TM_FRAMEWORK_OFF_HEAP = 128 * MB;

/**
 * The JobManager's memory as Flink 1.20 derives it from process size, heap, off-heap and metaspace: the JVM overhead is
 * what is left, and Flink refuses it outside [192m, 1g] (flink-kafka-4vcpu-8gb.md's 1536m / 1024m / 256m leave 128m:
 * "Derived JVM Overhead size (128.000mb) is not in configured JVM Overhead range [192.000mb, 1024.000mb]"). The seed's
 * sizes are kept: the overhead range is set to what they leave (`jobmanager.memory.jvm-overhead.min`/`max`).
 */
export function jobManagerMemory(v: Pick<FlinkVars, 'flink_jobmanager_memory_process_size' | 'flink_jobmanager_memory_heap_size' | 'flink_jobmanager_memory_jvm_metaspace_size' | 'flink_jobmanager_memory_off_heap_size'>): {
  overhead: number;
  config: Record<string, string>;
  problems: string[];
} {
  const process = bytesOf(v.flink_jobmanager_memory_process_size);
  const heap = bytesOf(v.flink_jobmanager_memory_heap_size);
  const meta = bytesOf(v.flink_jobmanager_memory_jvm_metaspace_size);
  const off = bytesOf(v.flink_jobmanager_memory_off_heap_size);
  const overhead = process - heap - meta - off;
  const config: Record<string, string> = {
    'jobmanager.memory.process.size': v.flink_jobmanager_memory_process_size,
    'jobmanager.memory.heap.size': v.flink_jobmanager_memory_heap_size,
    'jobmanager.memory.off-heap.size': v.flink_jobmanager_memory_off_heap_size,
    'jobmanager.memory.jvm-metaspace.size': v.flink_jobmanager_memory_jvm_metaspace_size,
  };
  const problems: string[] = [];
  if (overhead < 32 * MB) {
    problems.push(
      `flink_jobmanager_memory_process_size ${v.flink_jobmanager_memory_process_size} leaves ${mb(overhead)} of JVM overhead after heap ${v.flink_jobmanager_memory_heap_size}, ` +
        `off-heap ${v.flink_jobmanager_memory_off_heap_size} and metaspace ${v.flink_jobmanager_memory_jvm_metaspace_size}: give the JobManager at least 32m more, or less heap`,
    );
  } else if (overhead < JM_OVERHEAD.min) config['jobmanager.memory.jvm-overhead.min'] = mb(overhead);
  else if (overhead > JM_OVERHEAD.max) config['jobmanager.memory.jvm-overhead.max'] = mb(overhead);
  return { overhead, config, problems };
}

export interface TaskManagerMemory {
  process: number;
  frameworkHeap: number;
  taskHeap: number;
  frameworkOffHeap: number;
  managed: number;
  network: number;
  metaspace: number;
  overhead: number;
}

/**
 * A TaskManager's memory as Flink 1.20 derives it (TaskExecutorFlinkMemoryUtils): from the process size, the overhead
 * (10 %, 192m-1g) and metaspace off the top; then the Flink memory holds framework heap + task heap + framework
 * off-heap (128m) + managed + network (10 % of the Flink memory, 64m-1g), the task heap what is left. With the task
 * heap given too, Flink sums the sizes (network 10 % of that Flink memory) and the JVM overhead is what the process
 * size leaves, which must fall in 192m-1g.
 * flink-kafka-4vcpu-8gb.md's full set (process 2048m, framework heap 128m, task heap 1536m, managed 256m) does not
 * fit: Flink 1.20 refuses it ("Total Process Memory 2.000gb is less than the derived Total Flink Memory 2.222gb and
 * JVM Metaspace 256mb"). The role keeps the process size, framework heap and managed size and lets Flink size the
 * task heap (916m of 2048m), unless flink_taskmanager_memory_task_heap_size is given and fits (at most 927m there).
 */
export function taskManagerMemory(v: Pick<FlinkVars, 'flink_taskmanager_memory_process_size' | 'flink_taskmanager_memory_framework_heap_size' | 'flink_taskmanager_memory_task_heap_size' | 'flink_taskmanager_memory_managed_size' | 'flink_taskmanager_memory_jvm_metaspace_size'>): {
  memory: TaskManagerMemory;
  problems: string[];
} {
  const process = bytesOf(v.flink_taskmanager_memory_process_size);
  const metaspace = bytesOf(v.flink_taskmanager_memory_jvm_metaspace_size);
  // without a task heap: the overhead is 10 % of the process size (192m-1g), the Flink memory the rest
  let overhead = Math.min(TM_OVERHEAD.max, Math.max(TM_OVERHEAD.min, process * TM_OVERHEAD.fraction));
  const flink = process - metaspace - overhead;
  const frameworkHeap = bytesOf(v.flink_taskmanager_memory_framework_heap_size);
  const managed = bytesOf(v.flink_taskmanager_memory_managed_size);
  const problems: string[] = [];
  let taskHeap: number;
  let network: number;
  if (v.flink_taskmanager_memory_task_heap_size) {
    // Flink sums the fine-grained sizes, adds network as its fraction of the sum's Flink memory, and the JVM overhead
    // is what the process size leaves: it must fall in its range
    taskHeap = bytesOf(v.flink_taskmanager_memory_task_heap_size);
    const fixed = frameworkHeap + TM_FRAMEWORK_OFF_HEAP + managed;
    const others = fixed + taskHeap;
    const networkOf = (o: number) => Math.min(TM_NETWORK.max, Math.max(TM_NETWORK.min, Math.ceil((o * TM_NETWORK.fraction) / (1 - TM_NETWORK.fraction))));
    const overheadOf = (o: number) => process - o - networkOf(o) - metaspace;
    network = networkOf(others);
    overhead = overheadOf(others);
    // Flink's floating-point fractions round a few bytes its own way: a KiB of slack at the edge (2048m: 928m fails by 2 bytes)
    const SLACK = 1024;
    if (overhead < TM_OVERHEAD.min + SLACK || overhead > TM_OVERHEAD.max) {
      // the largest task heap (whole MiB) that leaves Flink's minimum overhead
      let most = Math.floor((process - metaspace - TM_OVERHEAD.min - fixed) / MB);
      while (most > 0 && overheadOf(fixed + most * MB) < TM_OVERHEAD.min + SLACK) most--;
      problems.push(
        `the TaskManager memory does not fit its process size ${v.flink_taskmanager_memory_process_size} (Flink 1.20 would refuse to start it): ` +
          `framework heap ${v.flink_taskmanager_memory_framework_heap_size} + task heap ${v.flink_taskmanager_memory_task_heap_size} + framework off-heap 128m + managed ${v.flink_taskmanager_memory_managed_size} + network ${mb(network)} ` +
          `= ${mb(others + network)} of Flink memory and metaspace ${mb(metaspace)} leave ${mb(overhead)} of JVM overhead, outside Flink's 192m-1g: ` +
          (overhead < TM_OVERHEAD.min + SLACK
            ? `leave flink_taskmanager_memory_task_heap_size empty (Flink sizes it), lower it to at most ${most}m, or raise the process size`
            : 'raise the task heap or lower the process size'),
      );
    }
  } else {
    network = Math.min(TM_NETWORK.max, Math.max(TM_NETWORK.min, flink * TM_NETWORK.fraction));
    taskHeap = flink - frameworkHeap - TM_FRAMEWORK_OFF_HEAP - managed - network;
    if (taskHeap <= 0) {
      problems.push(
        `flink_taskmanager_memory_process_size ${v.flink_taskmanager_memory_process_size} leaves no task heap after framework heap, framework off-heap 128m, managed ${v.flink_taskmanager_memory_managed_size}, ` +
          `network ${mb(network)}, metaspace ${mb(metaspace)} and JVM overhead ${mb(overhead)}`,
      );
    }
  }
  return { memory: { process, frameworkHeap, taskHeap, frameworkOffHeap: TM_FRAMEWORK_OFF_HEAP, managed, network, metaspace, overhead }, problems };
}

// ---------------------------------------------------------------------------------------------------------------
// layout

export interface TaskManagerInstance {
  /** instance id (systemd `flink-taskmanager@<id>`) */
  id: string;
  host: string;
  address: string;
  /** taskmanager.resource-id: what the REST API lists it as */
  resourceId: string;
  rpcPort: number;
  dataPort: number;
  tmpDir: string;
  slots: number;
}

/** a peer's value of a variable: its inventory value, else this host's (the role's default or the run's) */
function peerVar<T>(p: PeerHost, name: keyof FlinkVars, fallback: T): T {
  const v = p.vars[name];
  return v === undefined || v === '' ? fallback : (v as T);
}

/** The TaskManager instances of one host: ids 1..N, ports base + 10 per instance, own tmp dir, resource id `<host>-taskmanager-<id>`. */
export function instancesOf(p: Pick<PeerHost, 'name' | 'address' | 'vars'>, v: Pick<FlinkVars, 'flink_taskmanager_instances' | 'flink_taskmanager_rpc_port' | 'flink_taskmanager_data_port' | 'flink_data_dir' | 'flink_taskmanager_slots'>): TaskManagerInstance[] {
  const n = Number(peerVar(p as PeerHost, 'flink_taskmanager_instances', v.flink_taskmanager_instances));
  const rpc = Number(peerVar(p as PeerHost, 'flink_taskmanager_rpc_port', v.flink_taskmanager_rpc_port));
  const data = Number(peerVar(p as PeerHost, 'flink_taskmanager_data_port', v.flink_taskmanager_data_port));
  const dir = String(peerVar(p as PeerHost, 'flink_data_dir', v.flink_data_dir));
  const slots = Number(peerVar(p as PeerHost, 'flink_taskmanager_slots', v.flink_taskmanager_slots));
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    host: p.name,
    address: p.address,
    resourceId: `${p.name}-taskmanager-${i + 1}`,
    rpcPort: rpc + 10 * i,
    dataPort: data + 10 * i,
    tmpDir: `${dir}/tmp/taskmanager-${i + 1}`,
    slots,
  }));
}

export interface Cluster {
  jobManagers: Array<{ host: string; address: string }>;
  taskManagers: TaskManagerInstance[];
}

export function clusterOf(jm: PeerHost[], tm: PeerHost[], v: FlinkVars): Cluster {
  return { jobManagers: jm.map((p) => ({ host: p.name, address: p.address })), taskManagers: tm.flatMap((p) => instancesOf(p, v)) };
}

/** Problems of the layout, for `validate`. */
export function layoutProblems(c: Cluster, v: FlinkVars, self: { name: string; inJm: boolean; inTm: boolean }): string[] {
  const out: string[] = [];
  if (!self.inJm && !self.inTm) out.push(`host ${self.name} runs flink but is in neither ${v.flink_jobmanager_group} nor ${v.flink_taskmanager_group}: put it in the group of the processes it should run`);
  if (!c.jobManagers.length) out.push(`inventory group ${v.flink_jobmanager_group} is empty: Flink needs a JobManager`);
  if (c.jobManagers.length > 1 && v.flink_ha === 'none') out.push(`${c.jobManagers.length} JobManagers in ${v.flink_jobmanager_group} without HA: set flink_ha: zookeeper (a standby JobManager needs it), or keep one`);
  if (v.flink_ha === 'zookeeper' && !v.flink_ha_storage_dir) out.push('flink_ha: zookeeper needs flink_ha_storage_dir (a file system every JobManager reaches: s3://..., hdfs://..., or a shared mount)');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// config.yaml

/** `host:2181,host:2181` of the ZooKeeper group (each host's zookeeper_client_port, else 2181) */
export function zookeeperQuorum(zk: PeerHost[]): string {
  return zk.map((p) => `${p.address}:${Number(p.vars.zookeeper_client_port ?? 2181)}`).join(',');
}

function common(v: FlinkVars, c: Cluster, self: { address: string; inJm: boolean }, zk: PeerHost[]): Record<string, string | number | boolean> {
  const rpcAddress = v.flink_ha === 'zookeeper' && self.inJm ? self.address : (c.jobManagers[0]?.address ?? self.address);
  const out: Record<string, string | number | boolean> = {
    'env.java.opts.all': JAVA17_OPTS,
    'env.log.dir': LOG_DIR,
    'env.pid.dir': STATE_DIR,
    'jobmanager.rpc.address': rpcAddress,
    'jobmanager.rpc.port': v.flink_jobmanager_rpc_port,
  };
  if (v.flink_ha === 'zookeeper') {
    Object.assign(out, {
      'high-availability.type': 'zookeeper',
      'high-availability.storageDir': v.flink_ha_storage_dir,
      'high-availability.zookeeper.quorum': v.flink_ha_zookeeper_quorum || zookeeperQuorum(zk),
      'high-availability.zookeeper.path.root': '/flink',
      'high-availability.cluster-id': v.flink_ha_cluster_id,
      'high-availability.jobmanager.port': v.flink_jobmanager_rpc_port,
    });
  }
  Object.assign(out, {
    'state.backend.type': v.flink_state_backend,
    'state.checkpoints.dir': v.flink_checkpoints_dir,
    'state.savepoints.dir': v.flink_savepoints_dir,
    ...(v.flink_checkpoint_interval ? { 'execution.checkpointing.interval': v.flink_checkpoint_interval } : {}),
    ...(v.flink_state_backend === 'rocksdb' ? { 'state.backend.incremental': true } : {}),
  });
  return out;
}

function yamlOf(title: string, entries: Record<string, string | number | boolean>): string {
  return `# Managed by orch (role flink): ${title}\n# Flink 1.19+ reads conf/config.yaml (standard YAML; flink-conf.yaml is the legacy file)\n${stringify(entries, { lineWidth: 0 })}`;
}

/** /etc/flink/conf/config.yaml: what the JobManager and clients (bin/flink) read. */
export function jobManagerConfig(v: FlinkVars, c: Cluster, self: { address: string; inJm: boolean }, zk: PeerHost[] = []): string {
  const restAddress = self.inJm ? self.address : (c.jobManagers[0]?.address ?? self.address);
  const entries: Record<string, string | number | boolean> = {
    ...common(v, c, self, zk),
    'jobmanager.bind-host': '0.0.0.0',
    ...jobManagerMemory(v).config,
    'jobmanager.execution.failover-strategy': 'region',
    'blob.server.port': v.flink_blob_port,
    'rest.address': restAddress,
    'rest.bind-address': '0.0.0.0',
    'rest.port': v.flink_rest_port,
    'parallelism.default': v.flink_parallelism_default,
    'io.tmp.dirs': `${v.flink_data_dir}/tmp/jobmanager`,
    'web.tmpdir': `${v.flink_data_dir}/tmp/jobmanager/web`,
    ...v.flink_extra_config,
  };
  return yamlOf('the JobManager and clients (FLINK_CONF_DIR=/etc/flink/conf)', entries);
}

/**
 * /etc/flink/taskmanager/config.yaml: what the TaskManagers of this host read; what differs per instance (resource id,
 * ports, tmp dir) comes from its drop-in as dynamic properties.
 */
export function taskManagerConfig(v: FlinkVars, c: Cluster, self: { address: string; inJm: boolean }, zk: PeerHost[] = []): string {
  const entries: Record<string, string | number | boolean> = {
    ...common(v, c, self, zk),
    'taskmanager.host': self.address,
    'taskmanager.bind-host': '0.0.0.0',
    'taskmanager.numberOfTaskSlots': v.flink_taskmanager_slots,
    'taskmanager.memory.process.size': v.flink_taskmanager_memory_process_size,
    'taskmanager.memory.framework.heap.size': v.flink_taskmanager_memory_framework_heap_size,
    ...(v.flink_taskmanager_memory_task_heap_size ? { 'taskmanager.memory.task.heap.size': v.flink_taskmanager_memory_task_heap_size } : {}),
    'taskmanager.memory.managed.size': v.flink_taskmanager_memory_managed_size,
    'taskmanager.memory.jvm-metaspace.size': v.flink_taskmanager_memory_jvm_metaspace_size,
    'parallelism.default': v.flink_parallelism_default,
    ...v.flink_extra_config,
  };
  return yamlOf('the TaskManagers of this host (FLINK_CONF_DIR=/etc/flink/taskmanager)', entries);
}

// ---------------------------------------------------------------------------------------------------------------
// units

function unitHead(description: string): string[] {
  return [
    '# Managed by orch (role flink)',
    '[Unit]',
    `Description=${description}`,
    'Documentation=https://nightlies.apache.org/flink/flink-docs-release-1.20/',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
  ];
}

function unitTail(v: FlinkVars, stopSec: number): string[] {
  return ['SuccessExitStatus=143', 'Restart=on-failure', 'RestartSec=10', `TimeoutStopSec=${stopSec}`, `LimitNOFILE=${v.flink_limit_nofile}`, '', '[Install]', 'WantedBy=multi-user.target', ''];
}

/** flink-jobmanager.service: the standalone session cluster's JobManager in the foreground. */
export function jobManagerUnit(v: FlinkVars, javaHome: string, home: string): string {
  return [
    ...unitHead('Apache Flink JobManager (standalone session)'),
    `User=${v.flink_user}`,
    `Group=${v.flink_user}`,
    `Environment=JAVA_HOME=${javaHome}`,
    `Environment=FLINK_CONF_DIR=${CONF_DIR}`,
    'Environment=FLINK_IDENT_STRING=jobmanager',
    `WorkingDirectory=${STATE_DIR}`,
    `ExecStart=${home}/bin/jobmanager.sh start-foreground`,
    ...unitTail(v, 60),
  ].join('\n');
}

/**
 * flink-taskmanager@.service: one TaskManager per instance, its resource id, ports and tmp dir from the drop-in
 * (dynamic properties). ExecStartPost waits until the JobManager lists it, so that `systemctl restart` of one instance
 * returns once it is back: instances on one host restart one after the other. The wait never fails the unit (a
 * TaskManager keeps retrying to register on its own).
 */
export function taskManagerTemplate(v: FlinkVars, javaHome: string, home: string): string {
  return [
    ...unitHead('Apache Flink TaskManager %i'),
    `User=${v.flink_user}`,
    `Group=${v.flink_user}`,
    `Environment=JAVA_HOME=${javaHome}`,
    `Environment=FLINK_CONF_DIR=${TM_CONF_DIR}`,
    'Environment=FLINK_IDENT_STRING=taskmanager-%i',
    `WorkingDirectory=${STATE_DIR}`,
    `ExecStart=${home}/bin/taskmanager.sh start-foreground -Dtaskmanager.resource-id=\${FLINK_TM_RESOURCE_ID} -Dtaskmanager.rpc.port=\${FLINK_TM_RPC_PORT} -Dtaskmanager.data.port=\${FLINK_TM_DATA_PORT} -Dio.tmp.dirs=\${FLINK_TM_TMP_DIR}`,
    `ExecStartPost=${REGISTERED_SCRIPT} \${FLINK_TM_RESOURCE_ID} ${v.flink_health_timeout}`,
    `TimeoutStartSec=${v.flink_health_timeout + 30}`,
    ...unitTail(v, 60),
  ].join('\n');
}

/** the drop-in environment of one instance */
export function instanceEnvironment(t: TaskManagerInstance): Record<string, string | number> {
  return { FLINK_TM_RESOURCE_ID: t.resourceId, FLINK_TM_RPC_PORT: t.rpcPort, FLINK_TM_DATA_PORT: t.dataPort, FLINK_TM_TMP_DIR: t.tmpDir };
}

export const restUrls = (c: Cluster, port: number) => c.jobManagers.map((j) => `http://${j.address}:${port}`);

/** the ExecStartPost helper: exit 0 once a JobManager's REST API lists TaskManager $1, or after $2 seconds anyway */
export function registeredScript(c: Cluster, port: number): string {
  return [
    '#!/bin/sh',
    '# Managed by orch (role flink): wait until a JobManager lists TaskManager $1 (at most $2 s); never fails',
    'id=$1; end=$(( $(date +%s) + ${2:-120} ))',
    'while [ "$(date +%s)" -lt "$end" ]; do',
    `  for u in ${restUrls(c, port).map(q).join(' ')}; do`,
    '    curl -sf --max-time 3 "$u/taskmanagers/$id" >/dev/null 2>&1 && exit 0',
    '  done',
    '  sleep 1',
    'done',
    'exit 0',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// health

/** exits 0 when a JobManager's REST API lists each of these TaskManagers with its slots */
export function taskManagersListed(c: Cluster, port: number, tms: TaskManagerInstance[]): string {
  const urls = restUrls(c, port).map(q).join(' ');
  const checks = tms.map((t) => `  ok=0; for u in ${urls}; do curl -sf --max-time 5 "$u/taskmanagers/${t.resourceId}" | grep -q '"slotsNumber":${t.slots}[,}]' && { ok=1; break; }; done; [ $ok = 1 ] || { echo ${q(`TaskManager ${t.resourceId} not listed with ${t.slots} slots`)}; exit 1; }`);
  return ['(', ...checks, ')'].join('\n');
}

/** exits 0 when this JobManager's REST API answers /overview */
export function jobManagerAnswers(address: string, port: number): string {
  return `curl -sf --max-time 5 ${q(`http://${address}:${port}/overview`)} | grep -q '"slots-total"'`;
}
