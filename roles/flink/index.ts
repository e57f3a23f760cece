/**
 * flink: Apache Flink standalone session cluster (JobManager, TaskManagers), as flink-kafka-4vcpu-8gb.md,
 * datalyptica-minimal-5vm.md and datalyptica-enterprise-50vm.md run it. See DOC.
 */
import { artifactSource, release } from '../../src/artifacts/index.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  CONF_DIR,
  LOG_DIR,
  LOGGING_FILES,
  REGISTERED_SCRIPT,
  SIZE,
  STATE_DIR,
  TM_CONF_DIR,
  clusterOf,
  instanceEnvironment,
  instancesOf,
  jobManagerAnswers,
  jobManagerConfig,
  jobManagerMemory,
  jobManagerUnit,
  layoutProblems,
  mbOf,
  registeredScript,
  taskManagerConfig,
  taskManagerMemory,
  taskManagerTemplate,
  taskManagersListed,
  type FlinkVars,
} from './render.js';

const DOC = `
flink: an Apache Flink standalone session cluster: JobManager(s) on the hosts of group flink_jobmanager,
TaskManagers on the hosts of group flink_taskmanager (several per host as instances flink-taskmanager@1..N).

- Seeds: flink-kafka-4vcpu-8gb.md gives the defaults: JobManager process 1536m, heap 1024m, metaspace 256m;
  TaskManagers of process 2048m, framework heap 128m, managed 256m, 3 slots each, two of them (that layout sets
  flink_taskmanager_instances: 2 on its one host), parallelism 6. datalyptica-minimal-5vm.md: JobManager on VM4,
  one TaskManager on VM4 and two on VM5 (flink_taskmanager_instances: 2 there), state under /data/flink.
  datalyptica-enterprise-50vm.md: two JobManagers (active/standby) with flink_ha: zookeeper, RocksDB state,
  checkpoints, savepoints and HA storage on S3 (flink_plugins: [s3-fs-hadoop] enables the release's S3 plugin).
- Memory, checked offline with Flink 1.20's own arithmetic: the seed's JobManager sizes leave 128m of JVM overhead,
  below Flink's 192m default minimum, so jobmanager.memory.jvm-overhead.min is set to what they leave. The seed's
  full TaskManager set (task heap 1536m as well) does not fit 2048m: Flink 1.20 refuses it (derived Flink memory
  2.222gb + metaspace 256m > 2.000gb); the task heap is left to Flink (916m) unless
  flink_taskmanager_memory_task_heap_size is set to a size that fits (checked with Flink's arithmetic before any host
  is touched; the error names the largest that starts: 927m of 2048m).
- Config: Flink 1.19+ reads conf/config.yaml (standard YAML); the role renders it typed (numbers, booleans), twice:
  /etc/flink/conf/config.yaml for the JobManager and clients (bin/flink), /etc/flink/taskmanager/config.yaml for the
  TaskManagers, so that a TaskManager setting restarts only the TaskManagers. Per instance (its drop-in): resource id
  <host>-taskmanager-<N>, RPC port 6122 and data port 6121 (+10 per instance), tmp dir /data/flink/tmp/taskmanager-<N>.
  Flink's env.java.opts.all (the Java 17 module opens of its own config.yaml) is kept.
- Install: the release archive (catalogue: official URL + pinned checksum, or artifact_mirror) under
  /opt/flink/releases/<version>, /opt/flink/current; user flink; units flink-jobmanager.service and
  flink-taskmanager@.service run bin/jobmanager.sh / bin/taskmanager.sh start-foreground (Flink's memory
  computation included) with LimitNOFILE; resource_limits.flink-jobmanager / flink-taskmanager become
  MemoryMax=/CPUQuota=. Logs /var/log/flink.
- Health: the JobManager's REST API on 8081 lists every TaskManager (/taskmanagers/<resource id>) with its slots.
  Restarts roll host by host behind that check; on one host a restarted TaskManager unit returns only once the
  JobManager lists it again, so its instances restart one at a time.
- Multi-host state: file:// checkpoint and HA dirs are local to each host; a cluster of several hosts needs a shared
  file system (S3, HDFS, NFS) there.
`;

export default defineRole({
  name: 'flink',
  doc: DOC,
  description: 'Apache Flink standalone: JobManager (ZooKeeper HA), TaskManagers as instances, config.yaml, REST health, rolling restarts',
  dependsOn: ['java'],
  vars: {
    flink_version: v.str({ default: '1.20.0', doc: 'Flink release (Scala 2.12), from the artifact catalogue (src/artifacts)' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL that replaces the official download site (same release path); empty: the official URL' }),
    flink_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: "sha512 of the archive at the mirror; empty: the catalogue's pinned checksum" }),
    flink_install_root: v.str({ default: '/opt/flink', pattern: '^/', doc: 'releases unpack under ROOT/releases/VERSION, linked as ROOT/current' }),
    flink_user: v.str({ default: 'flink', doc: 'service user (and group)' }),
    flink_jobmanager_group: v.str({ default: 'flink_jobmanager', doc: 'inventory group of the JobManagers (one; two or more with flink_ha: zookeeper)' }),
    flink_taskmanager_group: v.str({ default: 'flink_taskmanager', doc: 'inventory group of the TaskManager hosts' }),
    flink_jobmanager_rpc_port: v.port({ default: 6123, doc: 'jobmanager.rpc.port (and high-availability.jobmanager.port with HA)' }),
    flink_blob_port: v.port({ default: 6124, doc: 'blob.server.port (fixed, so that a firewall can let it in)' }),
    flink_rest_port: v.port({ default: 8081, doc: 'rest.port: web UI, REST API, job submission' }),
    flink_jobmanager_memory_process_size: v.str({ default: '1536m', pattern: SIZE, doc: 'jobmanager.memory.process.size' }),
    flink_jobmanager_memory_heap_size: v.str({ default: '1024m', pattern: SIZE, doc: 'jobmanager.memory.heap.size' }),
    flink_jobmanager_memory_jvm_metaspace_size: v.str({ default: '256m', pattern: SIZE, doc: 'jobmanager.memory.jvm-metaspace.size' }),
    flink_jobmanager_memory_off_heap_size: v.str({ default: '128m', pattern: SIZE, doc: "jobmanager.memory.off-heap.size (Flink's default)" }),
    flink_taskmanager_instances: v.int({ default: 1, minimum: 0, maximum: 16, doc: 'TaskManagers on this host (flink-taskmanager@1..N; flink-kafka-4c8g and minimal-5vm VM5: 2)' }),
    flink_taskmanager_slots: v.int({ default: 3, minimum: 1, doc: 'taskmanager.numberOfTaskSlots' }),
    flink_taskmanager_memory_process_size: v.str({ default: '2048m', pattern: SIZE, doc: 'taskmanager.memory.process.size, per TaskManager' }),
    flink_taskmanager_memory_framework_heap_size: v.str({ default: '128m', pattern: SIZE, doc: 'taskmanager.memory.framework.heap.size' }),
    flink_taskmanager_memory_task_heap_size: v.str({ default: '', pattern: `^(|${SIZE.slice(1, -1)})$`, emptyAllowed: true, doc: "taskmanager.memory.task.heap.size; empty: Flink sizes it from the rest (the seed's 1536m does not fit 2048m)" }),
    flink_taskmanager_memory_managed_size: v.str({ default: '256m', pattern: SIZE, doc: 'taskmanager.memory.managed.size' }),
    flink_taskmanager_memory_jvm_metaspace_size: v.str({ default: '256m', pattern: SIZE, doc: "taskmanager.memory.jvm-metaspace.size (Flink's default)" }),
    flink_taskmanager_rpc_port: v.port({ default: 6122, doc: 'taskmanager.rpc.port of instance 1 (+10 per further instance)' }),
    flink_taskmanager_data_port: v.port({ default: 6121, doc: 'taskmanager.data.port of instance 1 (+10 per further instance)' }),
    flink_parallelism_default: v.int({ default: 6, minimum: 1, doc: 'parallelism.default' }),
    flink_data_dir: v.str({ default: '/data/flink', pattern: '^/', doc: 'state root: tmp dirs (and the default checkpoint, savepoint and HA dirs) under it' }),
    flink_state_backend: v.oneOf(['hashmap', 'rocksdb'] as const, { default: 'hashmap', doc: 'state.backend.type (enterprise-50vm: rocksdb)' }),
    flink_checkpoints_dir: v.str({ default: 'file:///data/flink/checkpoints', doc: 'state.checkpoints.dir (enterprise-50vm: s3://datalyptica-warehouse/flink/checkpoints)' }),
    flink_savepoints_dir: v.str({ default: 'file:///data/flink/savepoints', doc: 'state.savepoints.dir' }),
    flink_checkpoint_interval: v.str({ default: '', emptyAllowed: true, doc: 'execution.checkpointing.interval (e.g. 60 s); empty: jobs choose' }),
    flink_ha: v.oneOf(['none', 'zookeeper'] as const, { default: 'none', doc: 'JobManager high availability (enterprise-50vm: zookeeper, active + standby)' }),
    flink_ha_storage_dir: v.str({ default: 'file:///data/flink/ha', doc: 'high-availability.storageDir: must be shared by the JobManagers (enterprise-50vm: s3://datalyptica-warehouse/flink/ha)' }),
    flink_ha_zookeeper_quorum: v.str({ default: '', emptyAllowed: true, doc: 'high-availability.zookeeper.quorum; empty: the hosts of flink_ha_zookeeper_group' }),
    flink_ha_zookeeper_group: v.str({ default: 'zookeeper', doc: 'inventory group of the ZooKeeper ensemble (port: their zookeeper_client_port, else 2181)' }),
    flink_ha_cluster_id: v.str({ default: '/default', doc: 'high-availability.cluster-id' }),
    flink_plugins: v.list<string>({ type: 'string', pattern: '^[a-z0-9-]+$' }, { default: [], doc: "optional plugins of the release's opt/ to enable, e.g. s3-fs-hadoop (opt/flink-s3-fs-hadoop-VERSION.jar into plugins/s3-fs-hadoop/)" }),
    flink_extra_config: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more config.yaml entries (both files), typed' }),
    flink_limit_nofile: v.int({ default: 65536, minimum: 1024, doc: 'LimitNOFILE of the units' }),
    flink_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds a JobManager or TaskManager may take to be back after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const fv = vars as unknown as FlinkVars;
    const inJm = group(vars.flink_jobmanager_group).some((p) => p.name === host.name);
    const inTm = group(vars.flink_taskmanager_group).some((p) => p.name === host.name);
    const c = clusterOf(group(vars.flink_jobmanager_group), group(vars.flink_taskmanager_group), fv);
    const out = layoutProblems(c, fv, { name: host.name, inJm, inTm });
    if (inJm) out.push(...jobManagerMemory(fv).problems);
    if (inTm) out.push(...taskManagerMemory(fv).problems);
    if (vars.flink_ha === 'zookeeper' && !vars.flink_ha_zookeeper_quorum && !group(vars.flink_ha_zookeeper_group).length) {
      out.push(`flink_ha: zookeeper needs a ZooKeeper ensemble: hosts in group ${vars.flink_ha_zookeeper_group}, or flink_ha_zookeeper_quorum`);
    }
    return out;
  },

  declares: ({ vars, host, group }) => {
    const fv = vars as unknown as FlinkVars;
    const inJm = group(vars.flink_jobmanager_group).some((p) => p.name === host.name);
    const inTm = group(vars.flink_taskmanager_group).some((p) => p.name === host.name);
    const tms = inTm ? instancesOf(host, fv) : [];
    return {
      ports: [
        ...(inJm
          ? [
              { port: vars.flink_jobmanager_rpc_port, variable: 'flink_jobmanager_rpc_port', description: 'Flink JobManager RPC' },
              { port: vars.flink_blob_port, variable: 'flink_blob_port', description: 'Flink blob server' },
              { port: vars.flink_rest_port, variable: 'flink_rest_port', description: 'Flink REST API and web UI' },
            ]
          : []),
        ...tms.flatMap((t) => [
          { port: t.rpcPort, variable: 'flink_taskmanager_rpc_port', description: `Flink TaskManager ${t.id} RPC` },
          { port: t.dataPort, variable: 'flink_taskmanager_data_port', description: `Flink TaskManager ${t.id} data exchange` },
        ]),
      ],
      memoryMb: (inJm ? mbOf(vars.flink_jobmanager_memory_process_size) : 0) + tms.length * mbOf(vars.flink_taskmanager_memory_process_size),
      dataDirs: [vars.flink_data_dir],
      serves: [vars.flink_jobmanager_group, vars.flink_taskmanager_group],
    };
  },

  rollout: ({ vars, host, group }) => {
    const fv = vars as unknown as FlinkVars;
    const c = clusterOf(group(vars.flink_jobmanager_group), group(vars.flink_taskmanager_group), fv);
    const inJm = c.jobManagers.some((j) => j.host === host.name);
    const mine = c.taskManagers.filter((t) => t.host === host.name);
    const checks = [...(inJm ? [jobManagerAnswers(host.address, vars.flink_rest_port)] : []), ...(mine.length ? [taskManagersListed(c, vars.flink_rest_port, mine)] : [])];
    return {
      services: ['flink-jobmanager', 'flink-taskmanager@*'],
      health: {
        command: checks.join(' && ') || 'true',
        description: [inJm ? 'JobManager REST API answers' : '', mine.length ? `TaskManagers ${mine.map((t) => t.resourceId).join(', ')} listed with their slots` : ''].filter(Boolean).join('; '),
        timeoutSec: vars.flink_health_timeout,
        intervalSec: 3,
      },
    };
  },

  operations: ({ vars, host, group, exported }) => {
    const fv = vars as unknown as FlinkVars;
    const rel = release('flink', vars.flink_version);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.flink_sha512 || undefined });
    const root = vars.flink_install_root;
    const home = `${root}/current`;
    const javaHome = String(exported('java').java_home);
    const user = vars.flink_user;
    const jmPeers = group(vars.flink_jobmanager_group);
    const c = clusterOf(jmPeers, group(vars.flink_taskmanager_group), fv);
    const inJm = jmPeers.some((p) => p.name === host.name);
    const mine = c.taskManagers.filter((t) => t.host === host.name);
    const self = { address: host.address, inJm };
    const zk = group(vars.flink_ha_zookeeper_group);
    const localDirs = [vars.flink_checkpoints_dir, vars.flink_savepoints_dir, ...(vars.flink_ha === 'zookeeper' ? [vars.flink_ha_storage_dir] : [])]
      .filter((d) => d.startsWith('file:///'))
      .map((d) => d.slice('file://'.length));
    const dirs = [...new Set([vars.flink_data_dir, ...localDirs, `${vars.flink_data_dir}/tmp`, ...(inJm ? [`${vars.flink_data_dir}/tmp/jobmanager`] : []), ...mine.map((t) => t.tmpDir)])];
    const confLinks = (dir: string) => LOGGING_FILES.map((f) => ops.symlink({ path: `${dir}/${f}`, target: `${home}/conf/${f}` }));
    const plugins = vars.flink_plugins.flatMap((p) => [
      ops.dir({ path: `${home}/plugins/${p}`, owner: 'root', group: 'root', mode: 0o755 }),
      ops.symlink({ path: `${home}/plugins/${p}/flink-${p}-${rel.version}.jar`, target: `${home}/opt/flink-${p}-${rel.version}.jar` }),
    ]);
    const tmNotify = mine.map((t) => `flink-taskmanager@${t.id}`);
    const out: Operation<any>[] = [
      ops.packages({ names: ['curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: STATE_DIR, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url: src.url, ...(src.sha512 ? { sha512: src.sha512 } : { sha256: src.sha256 }), dest: `${root}/releases/${rel.version}`, link: home, stripComponents: 1 }),
      ...plugins,
      ops.dir({ path: '/etc/flink', owner: 'root', group: user, mode: 0o755 }),
      ops.dir({ path: LOG_DIR, owner: user, group: user, mode: 0o755 }),
      ops.dir({ path: STATE_DIR, owner: user, group: user, mode: 0o750 }),
      ...dirs.map((d) => ops.dir({ path: d, owner: user, group: user, mode: 0o750 })),
      // the JobManager's config is also the clients' (bin/flink run): every host gets it
      ops.dir({ path: CONF_DIR, owner: 'root', group: user, mode: 0o755 }),
      ops.file({ path: `${CONF_DIR}/config.yaml`, content: jobManagerConfig(fv, c, self, zk), owner: 'root', group: user, mode: 0o644, notify: inJm ? ['flink-jobmanager'] : [] }),
      ...confLinks(CONF_DIR),
    ];
    if (inJm) {
      out.push(
        ops.unit({ name: 'flink-jobmanager.service', content: jobManagerUnit(fv, javaHome, home), notify: ['flink-jobmanager'], resources: serviceLimits(host.vars, 'flink-jobmanager') }),
        ops.service({ name: 'flink-jobmanager', enabled: true, state: 'started' }),
        ops.waitForHttp({ url: `http://${host.address}:${vars.flink_rest_port}/overview`, timeoutS: vars.flink_health_timeout }),
      );
    }
    if (mine.length) {
      out.push(
        ops.dir({ path: TM_CONF_DIR, owner: 'root', group: user, mode: 0o755 }),
        ops.file({ path: `${TM_CONF_DIR}/config.yaml`, content: taskManagerConfig(fv, c, self, zk), owner: 'root', group: user, mode: 0o644, notify: tmNotify }),
        ...confLinks(TM_CONF_DIR),
        ops.dir({ path: '/usr/local/libexec', owner: 'root', group: 'root', mode: 0o755 }),
        ops.file({ path: REGISTERED_SCRIPT, content: registeredScript(c, vars.flink_rest_port), owner: 'root', group: 'root', mode: 0o755 }),
      );
    }
    // the TaskManager instances (none on a host that is no TaskManager: instances left from before are removed)
    const limits = serviceLimits(host.vars, 'flink-taskmanager');
    out.push(
      ...ops.instances({
        service: 'flink-taskmanager',
        unit: taskManagerTemplate(fv, javaHome, home),
        instances: mine.map((t) => ({
          id: t.id,
          environment: instanceEnvironment(t),
          serviceLines: [...(limits?.memoryMax ? [`MemoryMax=${limits.memoryMax}`] : []), ...(limits?.cpuQuota ? [`CPUQuota=${limits.cpuQuota}`] : [])],
        })),
      }),
    );
    if (inJm || mine.length) {
      out.push(
        ops.healthCheck({
          name: inJm ? `every TaskManager (${c.taskManagers.length}) listed by the REST API with its slots` : `TaskManagers ${mine.map((t) => t.resourceId).join(', ')} listed with their slots`,
          command: taskManagersListed(c, vars.flink_rest_port, inJm ? c.taskManagers : mine),
          timeoutS: vars.flink_health_timeout,
          intervalS: 3,
        }),
      );
    }
    return out;
  },
});

