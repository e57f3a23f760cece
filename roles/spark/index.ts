/**
 * spark: an Apache Spark standalone cluster (master, workers, standby masters, optional history server), as
 * spark-kafka-cluster-aws.md, datalyptica-minimal-5vm.md, datalyptica-enterprise-50vm.md and
 * vps-trio-resource-analysis.md run it. See `doc` below (printed by `orch roles show spark`).
 */
import { artifactSource, release, type Release } from '../../src/artifacts/index.js';
import { ops, serviceLimits, type Operation } from '../../src/ops/index.js';
import { defineRole, type PeerHost } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { jarFile, mavenUrl, type MavenJar } from './jar.js';
import {
  confDir,
  historyUnit,
  home,
  instanceEnvironment,
  layoutProblems,
  masterAnswers,
  masterIsActive,
  masters,
  masterUnit,
  masterUrl,
  memoryMb,
  sparkDefaults,
  sparkEnv,
  workerInstances,
  workersRegistered,
  workerTemplate,
  zookeeperUrl,
  type SparkVars,
} from './render.js';

/**
 * The S3A connector for the Hadoop version a Spark release is built with (Spark 3.5.x: Hadoop 3.3.4): hadoop-aws of
 * that version and the AWS SDK bundle its pom names. sha256: Maven Central's hadoop-aws-3.3.4.jar.sha256; the bundle
 * has only a .sha1 there (02deec3a0ad83d13d032b1812421b23d7a961eea, matched), its sha256 computed from that download.
 */
export const S3A_JARS: Record<string, MavenJar[]> = {
  '3.3.4': [
    { groupId: 'org.apache.hadoop', artifactId: 'hadoop-aws', version: '3.3.4', sha256: '53f9ae03c681a30a50aa17524bd9790ab596b28481858e54efd989a826ed3a4a' },
    { groupId: 'com.amazonaws', artifactId: 'aws-java-sdk-bundle', version: '1.12.262', sha256: '873fe7cf495126619997bec21c44de5d992544aea7e632fdc77adb1a0915bae5' },
  ],
};

const SPARK_SERVICES = ['spark-master', 'spark-worker@*', 'spark-history-server'];

/** The release of a version: the catalogue's, or (for a version it lacks) Apache's layout with the inventory's sha512. */
export function sparkRelease(version: string, sha512: string): Release | undefined {
  try {
    return release('spark', version);
  } catch {
    if (!sha512) return undefined;
    const topDir = `spark-${version}-bin-hadoop3`;
    return { service: 'spark', version, base: 'https://archive.apache.org/dist/', path: `spark/spark-${version}/${topDir}.tgz`, fileName: `${topDir}.tgz`, topDir, sha512: sha512.toLowerCase(), checksumSource: 'the inventory (spark_sha512)' };
  }
}

const inGroup = (hosts: PeerHost[], name: string) => hosts.some((h) => h.name === name);

export default defineRole({
  name: 'spark',
  description: 'Apache Spark standalone: master (standby masters with ZooKeeper), workers as instances, history server; health from the master\'s JSON',
  doc: [
    'Seeds: spark-kafka-cluster-aws.md (master :7077, web UI :8080, workers 2 cores / 4g in /opt/spark/work, user spark,',
    'spark-env.sh, spark-defaults.conf with S3A, units starting sbin/start-master.sh / start-worker.sh); datalyptica-minimal-5vm.md',
    '(16 cores / 48 GB workers, two on VM5: spark_worker_instances: 2, FILESYSTEM recovery on /opt/spark/recovery);',
    'datalyptica-enterprise-50vm.md (a standby master: two masters need spark_recovery_mode ZOOKEEPER, the only mode that elects',
    'one active master; its FILESYSTEM with two masters is refused, each would be active); vps-trio-resource-analysis.md',
    '(SPARK_DAEMON_MEMORY 768m; master 1280 MiB / 0.6 CPU, workers 2816 MiB / 1.4 CPU each: resource_limits.spark-master /',
    '.spark-worker become MemoryMax=/CPUQuota= of the master unit and of every worker instance; event logs in /var/spark-events).',
    'Layout: the release (spark-V-bin-hadoop3.tgz, catalogue or artifact_mirror) in /opt/spark/releases/V, linked as',
    '/opt/spark/current (SPARK_HOME); config in /opt/spark/conf (SPARK_CONF_DIR); hadoop-aws + AWS SDK bundle into its jars/',
    'from spark_maven_mirror (sha256-pinned, downloaded once on the controller). Masters: the hosts of spark_master_group;',
    'workers: spark_worker_group, each instance a unit spark-worker@N with its own web UI port (8081, 8082...), worker port',
    'and work dir; removed instances are stopped and deleted. Units run in the foreground (SPARK_NO_DAEMONIZE) under systemd.',
    'Health: every worker instance ALIVE in the active master\'s http://master:8080/json with its cores and memory. Rolling',
    'restarts one host at a time behind that check, the active master last (standby masters first).',
  ].join('\n'),
  dependsOn: ['java'],
  vars: {
    spark_version: v.str({ default: '3.5.4', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Spark release (built for Hadoop 3); the datalyptica seeds: 3.5.4, spark-kafka-cluster-aws: 3.5.0 (the catalogue pins 3.5.0; another version needs spark_sha512)' }),
    artifact_mirror: v.str({ default: '', emptyAllowed: true, doc: 'base URL replacing archive.apache.org/dist/ (same release path); empty: the official URL' }),
    spark_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', emptyAllowed: true, doc: 'sha512 of the archive (a version the catalogue lacks, or a mirror serving other bytes); empty: the pinned one' }),
    spark_install_root: v.str({ default: '/opt/spark', pattern: '^/[^\\s]*[^/\\s]$', doc: 'releases under ROOT/releases/V, ROOT/current = SPARK_HOME, ROOT/conf = SPARK_CONF_DIR' }),
    spark_user: v.str({ default: 'spark', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (the seed: spark)' }),
    spark_master_group: v.str({ default: 'spark_master', doc: 'inventory group of the masters (the first is the initial active one; more are standbys)' }),
    spark_worker_group: v.str({ default: 'spark_worker', doc: 'inventory group of the worker hosts' }),
    spark_master_port: v.port({ default: 7077, doc: 'SPARK_MASTER_PORT' }),
    spark_master_webui_port: v.port({ default: 8080, doc: 'SPARK_MASTER_WEBUI_PORT (its /json is the health source)' }),
    spark_worker_cores: v.int({ default: 2, minimum: 1, doc: 'SPARK_WORKER_CORES of each instance (datalyptica: 16)' }),
    spark_worker_memory: v.str({ default: '4g', pattern: '^[0-9]+[mMgG]$', doc: 'SPARK_WORKER_MEMORY of each instance (datalyptica: 48g; vps-trio: 2g)' }),
    spark_worker_instances: v.int({ default: 1, minimum: 1, maximum: 16, doc: 'worker instances on the host (units spark-worker@1..N; datalyptica VM5: 2)' }),
    spark_worker_port: v.int({ default: 0, minimum: 0, maximum: 65535, doc: 'SPARK_WORKER_PORT of instance 1 (the next ones count up); 0: random, as Spark' }),
    spark_worker_webui_port: v.port({ default: 8081, doc: 'web UI port of instance 1 (the next ones count up: 8082 ...)' }),
    spark_worker_dir: v.str({ default: '/opt/spark/work', pattern: '^/[^\\s]*$', doc: 'SPARK_WORKER_DIR of instance 1 (the seed: /opt/spark/work); instance N works in DIR-N' }),
    spark_worker_opts: v.str({ default: '', emptyAllowed: true, doc: 'SPARK_WORKER_OPTS (e.g. -Dspark.worker.cleanup.enabled=true)' }),
    spark_local_dirs: v.str({ default: '', emptyAllowed: true, doc: 'SPARK_LOCAL_DIRS (shuffle; datalyptica: /data/spark); empty: Spark\'s /tmp' }),
    spark_daemon_memory: v.str({ default: '1g', pattern: '^[0-9]+[mMgG]$', doc: 'SPARK_DAEMON_MEMORY: heap of master, worker and history daemons (vps-trio: 768m)' }),
    spark_driver_memory: v.str({ default: '2g', pattern: '^[0-9]+[mMgG]$', doc: 'spark.driver.memory' }),
    spark_executor_memory: v.str({ default: '2g', pattern: '^[0-9]+[mMgG]$', doc: 'spark.executor.memory' }),
    spark_recovery_mode: v.oneOf(['NONE', 'FILESYSTEM', 'ZOOKEEPER'] as const, { default: 'NONE', doc: 'spark.deploy.recoveryMode: FILESYSTEM (minimal-5vm, one master) or ZOOKEEPER (standby masters)' }),
    spark_recovery_dir: v.str({ default: '/opt/spark/recovery', pattern: '^/[^\\s]*$', doc: 'spark.deploy.recoveryDirectory (FILESYSTEM; the shared path minimal-5vm names)' }),
    spark_zookeeper_url: v.str({ default: '', emptyAllowed: true, doc: 'spark.deploy.zookeeper.url; empty: the hosts of spark_zookeeper_group on their zookeeper_client_port (2181)' }),
    spark_zookeeper_group: v.str({ default: 'zookeeper', doc: 'inventory group of the ZooKeeper ensemble (ZOOKEEPER recovery)' }),
    spark_zookeeper_dir: v.str({ default: '/spark', doc: 'spark.deploy.zookeeper.dir' }),
    spark_event_log_enabled: v.bool({ default: true, doc: 'spark.eventLog.enabled' }),
    spark_event_log_dir: v.str({ default: '/var/spark-events', pattern: '^/[^\\s]*$', doc: 'spark.eventLog.dir and the history server\'s log directory (vps-trio: /var/spark-events; spark-kafka-aws: /opt/spark/logs)' }),
    spark_history_server: v.bool({ default: false, doc: 'run the history server (spark-history-server.service) on this host' }),
    spark_history_webui_port: v.port({ default: 18080, doc: 'spark.history.ui.port' }),
    spark_log_dir: v.str({ default: '/var/log/spark', pattern: '^/[^\\s]*$', doc: 'SPARK_LOG_DIR (the daemons log to the journal; their tools here)' }),
    spark_python: v.bool({ default: true, doc: 'install python3 (PySpark drivers and Python workers on the executors need it)' }),
    spark_s3a: v.bool({ default: true, doc: 'install hadoop-aws + the AWS SDK bundle and set S3A in spark-defaults.conf (the seed)' }),
    spark_hadoop_version: v.str({ default: '3.3.4', doc: 'Hadoop version of the Spark release (3.5.x: 3.3.4): picks the matching hadoop-aws' }),
    spark_maven_mirror: v.str({ default: 'https://repo1.maven.org/maven2/', doc: 'Maven repository the S3A jars come from (a mirror keeps Maven\'s layout)' }),
    spark_s3a_endpoint: v.str({ default: 's3.eu-north-1.amazonaws.com', emptyAllowed: true, doc: 'spark.hadoop.fs.s3a.endpoint (MinIO: its URL)' }),
    spark_s3a_credentials_provider: v.str({ default: 'com.amazonaws.auth.InstanceProfileCredentialsProvider', doc: 'spark.hadoop.fs.s3a.aws.credentials.provider when no keys are given (the seed: the instance profile)' }),
    spark_s3a_access_key: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'S3 access key (with the secret key: SimpleAWSCredentialsProvider); empty: the provider above' }),
    spark_s3a_secret_key: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'S3 secret key' }),
    spark_s3a_path_style_access: v.bool({ default: false, doc: 'spark.hadoop.fs.s3a.path.style.access (MinIO)' }),
    spark_defaults_extra: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more spark-defaults.conf properties (Iceberg catalogs ...)' }),
    spark_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds a master or worker may take to be healthy after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const ms = masters(group(vars.spark_master_group), vars);
    const out = layoutProblems(vars as SparkVars, ms, zookeeperUrl(vars, group(vars.spark_zookeeper_group)), {
      master: inGroup(group(vars.spark_master_group), host.name),
      worker: inGroup(group(vars.spark_worker_group), host.name),
    });
    if (!sparkRelease(vars.spark_version, vars.spark_sha512)) {
      out.push(`spark_version ${vars.spark_version}: not in the artifact catalogue (no published checksum pinned; it has ${['3.5.0'].join(', ')}): set spark_sha512 to the sha512 Apache publishes as spark-${vars.spark_version}-bin-hadoop3.tgz.sha512`);
    }
    if (vars.spark_s3a && !S3A_JARS[vars.spark_hadoop_version]) out.push(`spark_hadoop_version ${vars.spark_hadoop_version}: no pinned S3A jars (known: ${Object.keys(S3A_JARS).join(', ')})`);
    if (!!vars.spark_s3a_access_key !== !!vars.spark_s3a_secret_key) out.push('spark_s3a_access_key and spark_s3a_secret_key: give both or neither');
    return out;
  },

  declares: ({ vars, host, group }) => {
    const master = masters(group(vars.spark_master_group), vars).find((m) => m.host === host.name);
    const worker = inGroup(group(vars.spark_worker_group), host.name);
    const ws = worker ? workerInstances(vars) : [];
    const ports = [];
    if (master) {
      ports.push({ port: master.port, variable: 'spark_master_port', description: 'Spark master' }, { port: master.webuiPort, variable: 'spark_master_webui_port', description: 'Spark master web UI' });
    }
    for (const w of ws) {
      ports.push({ port: w.webuiPort, variable: 'spark_worker_webui_port', description: `Spark worker ${w.id} web UI` });
      if (w.port) ports.push({ port: w.port, variable: 'spark_worker_port', description: `Spark worker ${w.id}` });
    }
    if (vars.spark_history_server) ports.push({ port: vars.spark_history_webui_port, variable: 'spark_history_webui_port', description: 'Spark history server' });
    const daemon = memoryMb(vars.spark_daemon_memory);
    return {
      ports,
      memoryMb: (master ? daemon : 0) + ws.reduce((n, w) => n + memoryMb(w.memory) + daemon, 0) + (vars.spark_history_server ? daemon : 0),
      cpus: ws.reduce((n, w) => n + w.cores, 0) + (master ? 0.5 : 0),
      dataDirs: [...ws.map((w) => w.dir), ...(master && vars.spark_recovery_mode === 'FILESYSTEM' ? [vars.spark_recovery_dir] : [])],
      serves: [vars.spark_master_group, vars.spark_worker_group],
    };
  },

  rollout: ({ vars, host, group }) => {
    const ms = masters(group(vars.spark_master_group), vars);
    const me = ms.find((m) => m.host === host.name);
    const ws = inGroup(group(vars.spark_worker_group), host.name) ? workerInstances(vars) : [];
    const statuses = ms.length > 1 ? ['ALIVE', 'STANDBY'] : ['ALIVE'];
    const checks = [...(me ? [masterAnswers(me, statuses)] : []), ...(ws.length ? [workersRegistered(ms, host.address, ws, 'configured')] : [])];
    const what = [me ? `master ${statuses.join('/')}` : '', ws.length ? `worker${ws.length > 1 ? 's' : ''} ${ws.map((w) => w.id).join(', ')} ALIVE at the master with ${vars.spark_worker_cores} cores / ${vars.spark_worker_memory}` : ''].filter(Boolean).join(', ');
    return {
      services: SPARK_SERVICES,
      health: { command: checks.join('\n') || 'true', description: `spark on ${host.name}: ${what || 'nothing to check'}`, timeoutSec: vars.spark_health_timeout, intervalSec: 3 },
      ...(me ? { leader: masterIsActive(me) } : {}),
    };
  },

  operations: ({ vars, host, group, exported }) => {
    const sv = vars as unknown as SparkVars;
    const javaHome = String(exported('java').java_home);
    const rel = sparkRelease(vars.spark_version, vars.spark_sha512);
    if (!rel) throw new Error(`spark_version ${vars.spark_version} is not in the artifact catalogue: set spark_sha512`);
    const src = artifactSource(rel, { mirror: vars.artifact_mirror || undefined, sha512: vars.spark_sha512 || undefined });
    const user = vars.spark_user;
    const root = vars.spark_install_root;
    const releaseDir = `${root}/releases/${rel.version}`;
    const ms = masters(group(vars.spark_master_group), vars);
    const me = ms.find((m) => m.host === host.name);
    const isWorker = inGroup(group(vars.spark_worker_group), host.name);
    const ws = isWorker ? workerInstances(vars) : [];
    const url = masterUrl(ms);
    const zkUrl = zookeeperUrl(vars, group(vars.spark_zookeeper_group));
    const instanceUnits = ws.map((w) => `spark-worker@${w.id}.service`);
    const daemons = [...(me ? ['spark-master'] : []), ...instanceUnits, ...(vars.spark_history_server ? ['spark-history-server'] : [])];
    const limits = serviceLimits(host.vars, 'spark-worker');
    const secretDefaults = !!vars.spark_s3a_access_key;
    const list: Operation<any>[] = [
      ops.packages({ names: ['curl', ...(vars.spark_python ? ['python3'] : [])], osFamily: host.facts.osFamily }),
      ops.user({ name: user, system: true, createHome: false }),
      { ...ops.artifact({ url: src.url, ...(src.sha512 ? { sha512: src.sha512 } : { sha256: src.sha256! }), dest: releaseDir, link: home(sv), stripComponents: 1 }), notify: daemons },
      ...(vars.spark_s3a ? S3A_JARS[vars.spark_hadoop_version] ?? [] : []).map((j) =>
        jarFile({ url: mavenUrl(vars.spark_maven_mirror, j), sha256: j.sha256, dest: `${releaseDir}/jars/${j.artifactId}-${j.version}.jar` }),
      ),
      ops.dir({ path: confDir(sv), owner: 'root', group: user, mode: 0o755 }),
      ops.dir({ path: vars.spark_log_dir, owner: user, group: user, mode: 0o755 }),
      // drivers (any user submitting) write their event logs here: world-writable and sticky, like /tmp; setgid, so that
      // each log (Spark writes them 0770) has the group of the service user, whose history server reads them
      ops.dir({ path: vars.spark_event_log_dir, owner: user, group: user, mode: 0o3777 }),
      ...ws.map((w) => ops.dir({ path: w.dir, owner: user, group: user, mode: 0o750 })),
      ...(me && vars.spark_recovery_mode === 'FILESYSTEM' ? [ops.dir({ path: vars.spark_recovery_dir, owner: user, group: user, mode: 0o750 })] : []),
      ops.file({ path: `${confDir(sv)}/spark-env.sh`, content: sparkEnv(sv, { address: host.address, javaHome, master: me, worker: isWorker, zkUrl }), owner: 'root', group: user, mode: 0o644, notify: daemons }),
      ops.file({
        path: `${confDir(sv)}/spark-defaults.conf`,
        content: sparkDefaults(sv, url),
        owner: 'root',
        group: user,
        mode: secretDefaults ? 0o640 : 0o644,
        secret: secretDefaults,
        notify: vars.spark_history_server ? ['spark-history-server'] : [],
      }),
      ops.file({
        path: '/etc/profile.d/orch-spark.sh',
        content: `# Managed by orch (role spark)\nexport SPARK_HOME=${home(sv)}\nexport SPARK_CONF_DIR=${confDir(sv)}\nexport PATH="$PATH:${home(sv)}/bin"\n`,
        owner: 'root',
        group: 'root',
        mode: 0o644,
      }),
    ];
    if (me) {
      list.push(
        // resource_limits.spark-master (vps-trio: 1280 MiB / 0.6 CPU) becomes MemoryMax= / CPUQuota=
        ops.unit({ name: 'spark-master.service', content: masterUnit(sv, javaHome), notify: ['spark-master'], resources: serviceLimits(host.vars, 'spark-master') }),
        ops.service({ name: 'spark-master', enabled: true, state: 'started' }),
        ops.healthCheck({ name: `Spark master ${me.address}:${me.port} answers ${ms.length > 1 ? 'ALIVE or STANDBY' : 'ALIVE'} on :${me.webuiPort}/json`, command: masterAnswers(me, ms.length > 1 ? ['ALIVE', 'STANDBY'] : ['ALIVE']), timeoutS: vars.spark_health_timeout, intervalS: 2 }),
      );
    }
    // the worker instances (none on a host that is no worker: instances left from before are removed)
    list.push(
      ...ops.instances({
        service: 'spark-worker',
        unit: workerTemplate(sv, javaHome, url),
        instances: ws.map((w) => ({
          id: w.id,
          environment: instanceEnvironment(w),
          // resource_limits.spark-worker (vps-trio: 2816 MiB / 1.4 CPU each) on every instance
          serviceLines: [...(limits?.memoryMax ? [`MemoryMax=${limits.memoryMax}`] : []), ...(limits?.cpuQuota ? [`CPUQuota=${limits.cpuQuota}`] : [])],
        })),
      }),
    );
    if (ws.length) {
      list.push(
        ops.healthCheck({
          // before the restart a changed setting notifies, the instance still runs (and is registered) with its old
          // values: this check expects those it runs with; the rolled restart's gate then expects the configured ones
          name: `worker${ws.length > 1 ? 's' : ''} ${ws.map((w) => `${host.address}:${w.webuiPort}`).join(', ')} ALIVE at the master with the cores / memory ${ws.length > 1 ? 'they run' : 'it runs'} with (configured: ${vars.spark_worker_cores} / ${vars.spark_worker_memory})`,
          command: workersRegistered(ms, host.address, ws, 'running'),
          timeoutS: vars.spark_health_timeout,
          intervalS: 3,
        }),
      );
    }
    if (vars.spark_history_server) {
      list.push(
        ops.unit({ name: 'spark-history-server.service', content: historyUnit(sv, javaHome), notify: ['spark-history-server'], resources: serviceLimits(host.vars, 'spark-history-server') }),
        ops.service({ name: 'spark-history-server', enabled: true, state: 'started' }),
        ops.waitForHttp({ url: `http://${host.address}:${vars.spark_history_webui_port}/api/v1/applications`, timeoutS: vars.spark_health_timeout }),
      );
    }
    return list;
  },
});
