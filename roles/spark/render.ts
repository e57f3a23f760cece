/**
 * Renderers of the spark role: conf/spark-env.sh, conf/spark-defaults.conf, the systemd units, the worker instances
 * and the health probes (POSIX sh over the master's JSON at http://master:8080/json). Pure: unit-tested against the
 * seeds' values.
 */
import { q } from '../../src/ops/index.js';
import type { PeerHost } from '../../src/role/define.js';

export interface SparkVars {
  spark_version: string;
  spark_install_root: string;
  spark_user: string;
  spark_master_group: string;
  spark_worker_group: string;
  spark_master_port: number;
  spark_master_webui_port: number;
  spark_worker_cores: number;
  spark_worker_memory: string;
  spark_worker_instances: number;
  spark_worker_port: number;
  spark_worker_webui_port: number;
  spark_worker_dir: string;
  spark_worker_opts: string;
  spark_local_dirs: string;
  spark_daemon_memory: string;
  spark_driver_memory: string;
  spark_executor_memory: string;
  spark_recovery_mode: 'NONE' | 'FILESYSTEM' | 'ZOOKEEPER';
  spark_recovery_dir: string;
  spark_zookeeper_url: string;
  spark_zookeeper_group: string;
  spark_zookeeper_dir: string;
  spark_event_log_enabled: boolean;
  spark_event_log_dir: string;
  spark_history_server: boolean;
  spark_history_webui_port: number;
  spark_log_dir: string;
  spark_s3a: boolean;
  spark_s3a_endpoint: string;
  spark_s3a_credentials_provider: string;
  spark_s3a_access_key: string;
  spark_s3a_secret_key: string;
  spark_s3a_path_style_access: boolean;
  spark_defaults_extra: Record<string, string | number | boolean>;
}

export const home = (v: Pick<SparkVars, 'spark_install_root'>) => `${v.spark_install_root}/current`;
export const confDir = (v: Pick<SparkVars, 'spark_install_root'>) => `${v.spark_install_root}/conf`;

/** `4g` -> 4096, `768m` -> 768 (MiB, as the master's JSON reports a worker's memory) */
export function memoryMb(s: string): number {
  const m = /^(\d+)([mMgGtT])$/.exec(s.trim());
  if (!m) throw new Error(`spark: memory ${JSON.stringify(s)}: expected a number with m or g (e.g. 4g, 768m)`);
  return Number(m[1]) * ({ m: 1, g: 1024, t: 1024 * 1024 } as const)[m[2].toLowerCase() as 'm' | 'g' | 't'];
}

export interface Master {
  host: string;
  address: string;
  port: number;
  webuiPort: number;
}

const num = (v: unknown, d: number) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : d);

/** The masters: the hosts of the master group, in inventory order (the first is the initial active one). */
export function masters(hosts: PeerHost[], v: Pick<SparkVars, 'spark_master_port' | 'spark_master_webui_port'>): Master[] {
  return hosts.map((h) => ({
    host: h.name,
    address: h.address,
    port: num(h.vars.spark_master_port, v.spark_master_port),
    webuiPort: num(h.vars.spark_master_webui_port, v.spark_master_webui_port),
  }));
}

/** `spark://m1:7077` or, with standby masters, `spark://m1:7077,m2:7077` (what workers and drivers are given) */
export function masterUrl(ms: Master[]): string {
  return `spark://${ms.map((m) => `${m.address}:${m.port}`).join(',')}`;
}

/** ZooKeeper's connect string: spark_zookeeper_url, else the hosts of the ZooKeeper group on their client port */
export function zookeeperUrl(v: Pick<SparkVars, 'spark_zookeeper_url'>, zk: PeerHost[]): string {
  if (v.spark_zookeeper_url) return v.spark_zookeeper_url;
  return zk.map((h) => `${h.address}:${num(h.vars.zookeeper_client_port, 2181)}`).join(',');
}

export interface WorkerInstance {
  id: string;
  cores: number;
  memory: string;
  /** 0: a random port, as Spark's default */
  port: number;
  webuiPort: number;
  dir: string;
}

/**
 * The worker instances of this host: `spark_worker_instances` of them, each with the configured cores and memory,
 * web UI port 8081, 8082 ... and worker port (when fixed) counted up the same way as start-worker.sh does for
 * SPARK_WORKER_INSTANCES. Instance 1 works in `spark_worker_dir` (the seed's /opt/spark/work), instance N in
 * `<spark_worker_dir>-N`: adding or removing instances never moves another one's directory (and no instance's
 * directory is inside another's, whose cleanup would take it for an old application's).
 */
export function workerInstances(v: Pick<SparkVars, 'spark_worker_instances' | 'spark_worker_cores' | 'spark_worker_memory' | 'spark_worker_port' | 'spark_worker_webui_port' | 'spark_worker_dir'>): WorkerInstance[] {
  return Array.from({ length: v.spark_worker_instances }, (_, i) => ({
    id: String(i + 1),
    cores: v.spark_worker_cores,
    memory: v.spark_worker_memory,
    port: v.spark_worker_port ? v.spark_worker_port + i : 0,
    webuiPort: v.spark_worker_webui_port + i,
    dir: i === 0 ? v.spark_worker_dir : `${v.spark_worker_dir}-${i + 1}`,
  }));
}

/** The master's JVM options for recovery: FILESYSTEM (a directory, shared for a standby) or ZOOKEEPER (leader election). */
export function recoveryOpts(v: Pick<SparkVars, 'spark_recovery_mode' | 'spark_recovery_dir' | 'spark_zookeeper_dir'>, zkUrl: string): string {
  if (v.spark_recovery_mode === 'FILESYSTEM') return `-Dspark.deploy.recoveryMode=FILESYSTEM -Dspark.deploy.recoveryDirectory=${v.spark_recovery_dir}`;
  if (v.spark_recovery_mode === 'ZOOKEEPER') return `-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=${zkUrl} -Dspark.deploy.zookeeper.dir=${v.spark_zookeeper_dir}`;
  return '';
}

/** a value for a double-quoted sh assignment (spark-env.sh is sourced by bash) */
const dq = (s: string | number) => `"${String(s).replace(/(["\\$`])/g, '\\$1')}"`;

/**
 * conf/spark-env.sh as spark-kafka-cluster-aws.md writes it (SPARK_MASTER_HOST/PORT/WEBUI_PORT on the master,
 * SPARK_WORKER_CORES/MEMORY on workers), with the recovery options (datalyptica-enterprise-50vm.md's
 * SPARK_MASTER_OPTS) and SPARK_DAEMON_MEMORY (vps-trio). Worker settings are defaults (`${VAR:-value}`): each
 * worker instance's unit sets its own; SPARK_WORKER_INSTANCES is not set, each instance being its own unit.
 */
export function sparkEnv(v: SparkVars, o: { address: string; javaHome: string; master: Master | undefined; worker: boolean; zkUrl: string }): string {
  const out = [
    '# Managed by orch (role spark): sourced by Spark\'s scripts (bin/load-spark-env.sh) on every start',
    `export JAVA_HOME=${dq(o.javaHome)}`,
    `export SPARK_LOCAL_HOSTNAME=${dq(o.address)}`,
    `export SPARK_LOG_DIR=${dq(v.spark_log_dir)}`,
    `export SPARK_DAEMON_MEMORY=${dq(v.spark_daemon_memory)}`,
  ];
  if (v.spark_local_dirs) out.push(`export SPARK_LOCAL_DIRS=${dq(v.spark_local_dirs)}`);
  if (o.master) {
    out.push(
      '',
      '# master',
      `export SPARK_MASTER_HOST=${dq(o.master.address)}`,
      `export SPARK_MASTER_PORT=${o.master.port}`,
      `export SPARK_MASTER_WEBUI_PORT=${o.master.webuiPort}`,
    );
    const opts = recoveryOpts(v, o.zkUrl);
    if (opts) out.push(`export SPARK_MASTER_OPTS=${dq(opts)}`);
  }
  if (o.worker) {
    const [first] = workerInstances({ ...v, spark_worker_instances: 1 });
    out.push(
      '',
      '# workers: the defaults; each instance (spark-worker@N.service) sets its own in its unit',
      `export SPARK_WORKER_CORES="\${SPARK_WORKER_CORES:-${first.cores}}"`,
      `export SPARK_WORKER_MEMORY="\${SPARK_WORKER_MEMORY:-${first.memory}}"`,
      `export SPARK_WORKER_WEBUI_PORT="\${SPARK_WORKER_WEBUI_PORT:-${first.webuiPort}}"`,
      `export SPARK_WORKER_DIR="\${SPARK_WORKER_DIR:-${first.dir}}"`,
    );
    if (v.spark_worker_opts) out.push(`export SPARK_WORKER_OPTS=${dq(v.spark_worker_opts)}`);
  }
  if (v.spark_history_server) {
    out.push('', '# history server', `export SPARK_HISTORY_OPTS=${dq(`-Dspark.history.fs.logDirectory=file://${v.spark_event_log_dir} -Dspark.history.ui.port=${v.spark_history_webui_port}`)}`);
  }
  return out.join('\n') + '\n';
}

/** conf/spark-defaults.conf: spark-kafka-cluster-aws.md's (master, event log, executor/driver memory, S3A) */
export function sparkDefaults(v: SparkVars, url: string): string {
  const props: Array<[string, string | number | boolean]> = [
    ['spark.master', url],
    ['spark.eventLog.enabled', v.spark_event_log_enabled],
  ];
  if (v.spark_event_log_enabled) props.push(['spark.eventLog.dir', `file://${v.spark_event_log_dir}`]);
  props.push(['spark.history.fs.logDirectory', `file://${v.spark_event_log_dir}`]);
  props.push(['spark.executor.memory', v.spark_executor_memory], ['spark.driver.memory', v.spark_driver_memory]);
  if (v.spark_s3a) {
    const keys = !!(v.spark_s3a_access_key && v.spark_s3a_secret_key);
    props.push(
      ['spark.hadoop.fs.s3a.impl', 'org.apache.hadoop.fs.s3a.S3AFileSystem'],
      ['spark.hadoop.fs.s3a.aws.credentials.provider', keys ? 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider' : v.spark_s3a_credentials_provider],
    );
    if (v.spark_s3a_endpoint) props.push(['spark.hadoop.fs.s3a.endpoint', v.spark_s3a_endpoint]);
    if (v.spark_s3a_path_style_access) props.push(['spark.hadoop.fs.s3a.path.style.access', true]);
    if (keys) props.push(['spark.hadoop.fs.s3a.access.key', v.spark_s3a_access_key], ['spark.hadoop.fs.s3a.secret.key', v.spark_s3a_secret_key]);
  }
  for (const [k, val] of Object.entries(v.spark_defaults_extra)) {
    const i = props.findIndex(([p]) => p === k);
    if (i >= 0) props[i] = [k, val];
    else props.push([k, val]);
  }
  for (const [k, val] of props) if (/[\n\r]/.test(String(val))) throw new Error(`spark-defaults.conf: ${k} has a newline`);
  return ['# Managed by orch (role spark): read by spark-submit, spark-shell and the history server', ...props.map(([k, val]) => `${k} ${val}`)].join('\n') + '\n';
}

interface UnitBase {
  javaHome: string;
  description: string;
  exec: string;
}

function unit(v: SparkVars, u: UnitBase): string {
  return [
    '# Managed by orch (role spark)',
    '[Unit]',
    `Description=${u.description}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    // in the foreground (spark-daemon.sh honours SPARK_NO_DAEMONIZE): systemd watches the JVM itself, restarts it on
    // failure and stops it with SIGTERM (the JVM then exits 143)
    'Type=simple',
    `User=${v.spark_user}`,
    `Environment=JAVA_HOME=${u.javaHome}`,
    `Environment=SPARK_HOME=${home(v)}`,
    `Environment=SPARK_CONF_DIR=${confDir(v)}`,
    'Environment=SPARK_NO_DAEMONIZE=true',
    `ExecStart=${u.exec}`,
    'SuccessExitStatus=143',
    'Restart=on-failure',
    'RestartSec=5',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n') + '\n';
}

/** spark-master.service: spark-kafka-cluster-aws.md's unit (sbin/start-master.sh as user spark), in the foreground */
export const masterUnit = (v: SparkVars, javaHome: string) => unit(v, { javaHome, description: 'Apache Spark Master', exec: `${home(v)}/sbin/start-master.sh` });

/** spark-worker@.service: the seed's worker unit as a template; each instance's drop-in sets its SPARK_WORKER_* */
export const workerTemplate = (v: SparkVars, javaHome: string, url: string) =>
  unit(v, { javaHome, description: 'Apache Spark Worker %i', exec: `${home(v)}/sbin/start-worker.sh ${url}` });

export const historyUnit = (v: SparkVars, javaHome: string) => unit(v, { javaHome, description: 'Apache Spark History Server', exec: `${home(v)}/sbin/start-history-server.sh` });

/** the drop-in environment of one worker instance */
export function instanceEnvironment(w: WorkerInstance): Record<string, string | number> {
  return {
    SPARK_WORKER_CORES: w.cores,
    SPARK_WORKER_MEMORY: w.memory,
    SPARK_WORKER_WEBUI_PORT: w.webuiPort,
    ...(w.port ? { SPARK_WORKER_PORT: w.port } : {}),
    SPARK_WORKER_DIR: w.dir,
  };
}

/** the master's JSON (`/json/`: `/json` answers with a redirect there), whitespace removed */
const json = (m: Master) => `curl -fsS --max-time 5 ${q(`http://${m.address}:${m.webuiPort}/json/`)} 2>/dev/null | tr -d ' \\n\\r\\t'`;

/** exits 0 when this master's JSON answers with one of `statuses` (ALIVE; STANDBY for a ZooKeeper standby) */
export function masterAnswers(m: Master, statuses: string[]): string {
  const cases = statuses.map((s) => `*'"status":"${s}"'*`).join('|');
  return `j=$(${json(m)}) || { echo ${q(`master ${m.address}:${m.webuiPort}/json does not answer`)}; exit 1; }\ncase "$j" in ${cases}) ;; *) printf '%s %s\\n' ${q(`master ${m.address} is not ${statuses.join(' or ')}:`)} "$(printf '%s' "$j" | grep -o '"status":"[A-Z_]*"')"; exit 1 ;; esac`;
}

/** exits 0 when this host's master is the active one (ALIVE): it restarts last */
export function masterIsActive(m: Master): string {
  return `${json(m)} | grep -q '"status":"ALIVE"'`;
}

/**
 * exits 0 when the active master (the first of `ms` whose JSON says ALIVE) lists every instance of `ws` ALIVE at this
 * host's web UI address with its cores and memory; otherwise prints what is missing.
 *
 * `configured` (after a restart: the rolled restart's gate) expects the configured cores and memory. `running` (the
 * check after a run's changes, which comes before the restart a changed setting notifies) expects the cores and memory
 * the instance's running unit was started with (SPARK_WORKER_CORES / SPARK_WORKER_MEMORY in its main process's
 * environment): on a first start those are the configured ones; before a pending restart the old ones, still served.
 */
export function workersRegistered(ms: Master[], address: string, ws: WorkerInstance[], mode: 'configured' | 'running' = 'configured'): string {
  const awk = (ui: string, cores: string, mem: string) =>
    `awk -v RS='"id":"worker-' -v ui=${q(`"webuiaddress":"${ui}"`)} -v c=${cores} -v m=${mem} 'NR > 1 { w = $0; i = index(w, "\\"lastheartbeat\\""); if (i) w = substr(w, 1, i) } NR > 1 && index(w, ui) && index(w, c) && index(w, m) && index(w, "\\"state\\":\\"ALIVE\\"") { ok = 1 } END { exit !ok }'`;
  const checks = ws.map((w) => {
    const ui = `http://${address}:${w.webuiPort}`;
    if (mode === 'configured') {
      return `printf '%s' "$j" | ${awk(ui, q(`"cores":${w.cores},`), q(`"memory":${memoryMb(w.memory)},`))} || { echo ${q(`worker ${ui} is not ALIVE with ${w.cores} cores / ${w.memory} at the master`)}; bad=1; }`;
    }
    const unit = q(`spark-worker@${w.id}.service`);
    return [
      `pid=$(systemctl show -p MainPID --value ${unit} 2>/dev/null); e=$(tr '\\000' '\\n' </proc/"\${pid:-0}"/environ 2>/dev/null) || e=''`,
      `c=$(printf '%s\\n' "$e" | sed -n 's/^SPARK_WORKER_CORES=//p'); m=$(printf '%s\\n' "$e" | sed -n 's/^SPARK_WORKER_MEMORY=//p')`,
      `case "$m" in *[gG]) mb=$(( \${m%?} * 1024 )) ;; *[mM]) mb=\${m%?} ;; *) mb='' ;; esac`,
      `if [ -z "$c" ] || [ -z "$mb" ]; then echo ${q(`spark-worker@${w.id} is not running`)}; bad=1;`,
      `elif ! printf '%s' "$j" | ${awk(ui, '"\\"cores\\":$c,"', '"\\"memory\\":$mb,"')}; then printf '%s\\n' ${q(`worker ${ui} is not ALIVE at the master with the cores / memory it runs with:`)}" $c / $m"; bad=1; fi`,
    ].join('\n');
  });
  return [
    'active=""',
    ...ms.map((m) => `if [ -z "$active" ]; then j=$(${json(m)}) && case "$j" in *'"status":"ALIVE"'*) active=${q(m.address)} ;; esac; fi`),
    `[ -n "$active" ] || { echo ${q(`no master is ALIVE (${ms.map((m) => m.address).join(', ')})`)}; exit 1; }`,
    'bad=0',
    ...checks,
    '[ "$bad" = 0 ]',
  ].join('\n');
}

/** Offline problems of the layout: masters exist, standby masters only with ZooKeeper, the worker's memory parses. */
export function layoutProblems(v: SparkVars, ms: Master[], zkUrl: string, roles: { master: boolean; worker: boolean }): string[] {
  const out: string[] = [];
  if (!ms.length) out.push(`spark: the inventory group ${v.spark_master_group} has no host: workers and drivers need a master`);
  if (ms.length > 1 && v.spark_recovery_mode !== 'ZOOKEEPER') {
    out.push(
      `spark: ${ms.length} masters (${ms.map((m) => m.host).join(', ')}) with recovery mode ${v.spark_recovery_mode}: only ZOOKEEPER elects one active master (with ${v.spark_recovery_mode} every master would be active on its own); set spark_recovery_mode: ZOOKEEPER, or keep one master (FILESYSTEM recovers a restarted master from ${v.spark_recovery_dir})`,
    );
  }
  if (v.spark_recovery_mode === 'ZOOKEEPER' && !zkUrl) out.push(`spark: recovery mode ZOOKEEPER needs spark_zookeeper_url or hosts in the group ${v.spark_zookeeper_group}`);
  if (!roles.master && !roles.worker) out.push(`spark: this host is in neither ${v.spark_master_group} nor ${v.spark_worker_group}`);
  for (const [name, val] of [['spark_worker_memory', v.spark_worker_memory], ['spark_daemon_memory', v.spark_daemon_memory]] as const) {
    try {
      memoryMb(val);
    } catch (e) {
      out.push(`${name}: ${(e as Error).message}`);
    }
  }
  return out;
}
