/**
 * jupyterlab: JupyterLab, the notebooks of a Spark cluster (vps-trio-resource-analysis.md VPS 3, `spark-jupyter`:
 * "Jupyter Lab notebook environment (port 8888)", 500m / 1024 Mi, driver memory 768m, Python 3.11, notebooks in
 * /opt/spark/notebooks, event logs in /var/spark-events; a client of the Spark master on the same VPS). See DOC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ops, serviceLimit, serviceLimits } from '../../src/ops/index.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  CONFIG_FILE,
  ENV_FILE,
  ETC,
  JUPYTER_PATH,
  KERNEL_SPEC,
  MIGRATED_MARKER,
  MIGRATED_TEXT,
  SECRETS_FILE,
  SPARK_CONF,
  TOKEN_PATTERN,
  envFile,
  healthCheck,
  kernelLauncher,
  kernelSpec,
  lockOnController,
  masterUrl,
  memoryMb,
  paths,
  readToken,
  secretsEnv,
  serverConfig,
  serverVersion,
  sparkDefaults,
  sparkHome,
  unit,
  type JupyterlabVars,
} from './render.js';

const DOC = `
jupyterlab: JupyterLab on the hosts of group jupyterlab (jupyterlab_group; vps-trio: VPS 3's spark-jupyter, 8888),
its notebooks' kernels PySpark drivers of the Spark standalone cluster.

- Install: JupyterLab from PyPI, pinned: roles/jupyterlab/locks/jupyterlab-<version>-py3.11.txt (jupyterlab + ipykernel,
  every package name==version with the sha256 of its files on PyPI, resolved with uv as of the release). The controller
  builds the wheels once (cached) and pushes them as one verified tar; the host installs them into
  <jupyterlab_install_root>/venv with the distribution's python3 (3.11 on Debian 12) and reaches no index
  (ops.pythonVenv). No pyspark from PyPI: kernels import the host's Spark, the spark role's release at SPARK_HOME
  (jupyterlab_spark_home; empty: <spark_install_root>/current, /opt/spark/current): the kernel spec
  /etc/jupyterlab/share/kernels/python3 (JUPYTER_PATH, found before ipykernel's own) starts <root>/pyspark-kernel,
  which puts SPARK_HOME/python/lib/pyspark.zip and the py4j-*-src.zip there on PYTHONPATH at each kernel start (a
  Spark upgrade's new py4j is found without a restart). JAVA_HOME is the java role's.
- Server: jupyter lab as the system user jupyter (jupyterlab_user, home jupyterlab_data_dir), unit jupyterlab.service,
  on jupyterlab_bind:jupyterlab_port, root dir jupyterlab_notebook_dir (owned by the user), no browser, no news, update
  check or PyPI extension manager, idle kernels culled after jupyterlab_cull_idle_seconds (a forgotten Spark driver
  holds 768m of the unit's 1024 MiB). Config: /etc/jupyterlab/jupyter_server_config.py (JUPYTER_CONFIG_DIR, root's:
  notebook code, which runs as the user, cannot change the server's settings), no secret; what users change in the UI
  (settings, workspaces) goes to the home (JUPYTERLAB_SETTINGS_DIR, JUPYTERLAB_WORKSPACES_DIR).
- Token: a cluster value (jupyterlab_token), generated once on the group (32 hex digits), kept on the hosts (root reads
  it in /var/lib/orch/values/jupyterlab_token and /etc/jupyterlab/secrets.env); given as jupyterlab_token it replaces
  theirs. The server reads it as JUPYTER_TOKEN from secrets.env (0640 root:jupyter, an EnvironmentFile): never on a
  command line. Clients send "Authorization: token <token>" or open http://host:8888/lab?token=<token>.
- Spark defaults of the notebooks: SPARK_CONF_DIR=/etc/jupyterlab/spark, spark-defaults.conf: spark.master (empty
  jupyterlab_spark_master_url: spark://<each host of jupyterlab_spark_master_group>:<its spark_master_port, 7077>),
  spark.driver.memory (768m), spark.driver.host (this host's inventory address, where executors reach the driver),
  spark.eventLog.enabled / .dir (file:/var/spark-events; created 03777 unless the spark role does it on this host),
  spark.pyspark.python (python3), and jupyterlab_spark_defaults_extra. A notebook's SparkSession.builder.getOrCreate()
  with no master joins the cluster.
- Limits: resource_limits.jupyterlab (vps-trio: 1024 MiB / 0.5 CPU, the document's spark-jupyter) become MemoryMax= /
  CPUQuota= of the unit: the server, its kernels and their Spark drivers; declared 1024 MiB / 0.5 CPU without them.
- Health: /api/status answers with the token and /api reports the lock's jupyter_server release. The venv, the files
  and the unit restart the server (running kernels are lost).
`;

/** 1024 MiB / 0.5 CPU: the document's spark-jupyter limits, declared when the inventory gives none */
const SEED_MEMORY_MB = 1024;
const SEED_CPUS = 0.5;


export default defineRole({
  name: 'jupyterlab',
  doc: DOC,
  description: 'JupyterLab from PyPI (pinned lock, controller-built wheelhouse): token auth, notebooks as PySpark drivers of the host\'s Spark standalone cluster, systemd with resource limits',
  dependsOn: ['java'],
  vars: {
    jupyterlab_version: v.str({ default: '4.3.4', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'JupyterLab release; roles/jupyterlab/locks must hold its lock (jupyterlab-<version>-py3.11.txt)' }),
    jupyterlab_group: v.str({ default: 'jupyterlab', doc: 'inventory group of the JupyterLab hosts (vps-trio: VPS 3); they share the token' }),
    jupyterlab_install_root: v.str({ default: '/opt/jupyterlab', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'venv at ROOT/venv, the lock and the kernel launcher beside it' }),
    jupyterlab_user: v.str({ default: 'jupyter', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (and group): runs the server, its kernels and their Spark drivers' }),
    jupyterlab_data_dir: v.str({ default: '/var/lib/jupyterlab', pattern: '^/[A-Za-z0-9_./-]*$', doc: "the user's home (Jupyter's runtime and data dirs, workspaces)" }),
    jupyterlab_python: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_./-]*$', doc: "interpreter creating the venv: a Python 3.11 (the seed's; the lock's wheels are cp311); empty: python3 on Debian 12, python3.11 (installed) on RHEL" }),
    jupyterlab_bind: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F.:]+$', doc: 'address the server listens on' }),
    jupyterlab_port: v.port({ default: 8888, doc: 'server port (the seed: 8888)' }),
    jupyterlab_notebook_dir: v.str({ default: '/opt/spark/notebooks', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: "the server's root dir, owned by the user (the seed's jupyter-notebooks volume)" }),
    jupyterlab_token: v.str({ default: '', emptyAllowed: true, secret: true, pattern: `^(|${TOKEN_PATTERN.source.slice(1, -1)})$`, doc: 'the token (secret; 16-256 of A-Z a-z 0-9 . _ ~ -); empty: generated once (cluster value jupyterlab_token; root reads it on the hosts in /var/lib/orch/values/); given: replaces theirs' }),
    jupyterlab_cull_idle_seconds: v.int({ default: 3600, minimum: 0, doc: 'idle kernels (and their Spark drivers) are shut down after this many seconds; 0: never' }),
    jupyterlab_spark_home: v.str({ default: '', emptyAllowed: true, pattern: '^(|/[A-Za-z0-9_./-]*[A-Za-z0-9_-])$', doc: "SPARK_HOME of the kernels; empty: the spark role's <spark_install_root>/current (/opt/spark/current)" }),
    jupyterlab_spark_master_url: v.str({ default: '', emptyAllowed: true, pattern: '^(|spark://[A-Za-z0-9_.:\\[\\]-]+(,[A-Za-z0-9_.:\\[\\]-]+)*|local(\\[[0-9*]+\\])?)$', doc: 'spark.master of the notebooks; empty: spark://<the hosts of jupyterlab_spark_master_group>:<their spark_master_port> (vps-trio: spark://10.104.0.4:7077)' }),
    jupyterlab_spark_master_group: v.str({ default: 'spark_master', doc: "inventory group of the Spark masters (the spark role's spark_master_group)" }),
    jupyterlab_spark_driver_memory: v.str({ default: '768m', pattern: '^[0-9]+[mMgG]$', doc: 'spark.driver.memory of a notebook (the seed: 768m; inside the unit\'s memory limit)' }),
    jupyterlab_spark_driver_host: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_.:-]*$', doc: "spark.driver.host: where the executors reach a notebook's driver; empty: this host's inventory address" }),
    jupyterlab_spark_event_log_enabled: v.bool({ default: true, doc: 'spark.eventLog.enabled' }),
    jupyterlab_spark_event_log_dir: v.str({ default: '/var/spark-events', pattern: '^/[A-Za-z0-9_./-]*$', doc: "spark.eventLog.dir (file:DIR; the seed's spark-events volume, the spark role's too): created 03777 unless the spark role does it on this host" }),
    jupyterlab_spark_python: v.str({ default: 'python3', pattern: '^[A-Za-z0-9_./-]+$', doc: "spark.pyspark.python (the executors' Python; PYSPARK_PYTHON): its minor must be the kernels' 3.11" }),
    jupyterlab_spark_defaults_extra: v.map<string | number | boolean>({ type: ['string', 'number', 'boolean'] }, { default: {}, doc: 'more spark-defaults.conf properties of the notebooks (spark.executor.memory, spark.cores.max ...); they win over the above' }),
    jupyterlab_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds the server may take to answer after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const out: string[] = [];
    if (!group(vars.jupyterlab_group).some((p) => p.name === host.name)) out.push(`host ${host.name} runs jupyterlab but is not in group ${vars.jupyterlab_group}`);
    if (!existsSync(lockOnController(vars.jupyterlab_version))) out.push(`jupyterlab_version ${vars.jupyterlab_version}: no lock ${lockOnController(vars.jupyterlab_version)} (resolve one with uv as the 4.3.4 lock's header says)`);
    if (!masterUrl(vars, group(vars.jupyterlab_spark_master_group))) {
      out.push(`jupyterlab_spark_master_url is empty and group ${JSON.stringify(vars.jupyterlab_spark_master_group)} (jupyterlab_spark_master_group) has no host: notebooks would have no Spark master; set jupyterlab_spark_master_url (spark://HOST:7077) or place the master in that group`);
    }
    const limit = serviceLimit(host.vars, 'jupyterlab');
    if (limit?.memory_mb !== undefined && memoryMb(vars.jupyterlab_spark_driver_memory) >= limit.memory_mb) {
      out.push(`jupyterlab_spark_driver_memory ${vars.jupyterlab_spark_driver_memory} does not fit resource_limits.jupyterlab.memory_mb ${limit.memory_mb} (the unit's MemoryMax= holds the server, its kernels and the driver's JVM): lower the driver memory or raise the limit`);
    }
    return out;
  },

  declares: ({ vars, host }) => {
    const limit = serviceLimit(host.vars, 'jupyterlab');
    return {
      ports: [{ port: vars.jupyterlab_port, variable: 'jupyterlab_port', description: 'JupyterLab' }],
      memoryMb: limit?.memory_mb ?? SEED_MEMORY_MB,
      cpus: limit?.cpus ?? SEED_CPUS,
      dataDirs: [vars.jupyterlab_notebook_dir],
      serves: [vars.jupyterlab_group],
    };
  },

  clusterValues: ({ vars }) => [
    {
      name: 'jupyterlab_token',
      doc: "JupyterLab's token (clients send it as Authorization: token ...)",
      group: vars.jupyterlab_group,
      secret: true,
      override: 'jupyterlab_token',
      overrideReplaces: true,
      pattern: TOKEN_PATTERN,
      read: readToken,
    },
  ],

  rollout: ({ vars, host }) => ({
    services: ['jupyterlab'],
    health: { command: healthCheck(host.address, vars.jupyterlab_port, serverVersion(readFileSync(lockOnController(vars.jupyterlab_version), 'utf8'))), description: `JupyterLab on ${host.name} answers /api/status with its token`, timeoutSec: vars.jupyterlab_health_timeout, intervalSec: 2 },
  }),

  operations: ({ vars, host, group, exported, cluster }) => {
    const jv = vars as unknown as JupyterlabVars;
    const p = paths(jv);
    const user = vars.jupyterlab_user;
    const lockFile = lockOnController(vars.jupyterlab_version);
    const lockText = readFileSync(lockFile, 'utf8');
    const token = cluster('jupyterlab_token') || vars.jupyterlab_token;
    if (!TOKEN_PATTERN.test(token)) throw new Error('jupyterlab_token: no token resolved (the cluster value jupyterlab_token is empty or malformed)');
    const notify = ['jupyterlab'];
    const debian = host.facts.osFamily !== 'redhat';
    const rt = { javaHome: String(exported('java').java_home ?? ''), sparkHome: sparkHome(jv, host.vars) };
    if (!rt.javaHome) throw new Error('jupyterlab: the java role exported no java_home for this host');
    // the spark role makes the event log dir (03777, its user's) where it runs with the same dir: not managed twice
    const sparkMakesEventDir = !!host.roles?.includes('spark') && (host.vars.spark_event_log_dir ?? '/var/spark-events') === vars.jupyterlab_spark_event_log_dir;
    return [
      ops.packages({ names: debian ? ['python3', 'python3-venv', 'curl'] : ['python3.11', 'curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.jupyterlab_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.dir({ path: p.root, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: p.lock, content: lockText, owner: 'root', group: 'root', mode: 0o644 }),
      ops.pythonVenv({ venv: p.venv, lock: p.lock, lockText, lockFile, python: vars.jupyterlab_python || (debian ? 'python3' : 'python3.11'), notify }),
      ops.file({ path: p.kernelLauncher, content: kernelLauncher(jv), owner: 'root', group: 'root', mode: 0o755 }),
      ops.dir({ path: vars.jupyterlab_data_dir, owner: user, group: user, mode: 0o750 }),
      ops.dir({ path: vars.jupyterlab_notebook_dir, owner: user, group: user, mode: 0o750 }),
      ...(vars.jupyterlab_spark_event_log_enabled && !sparkMakesEventDir ? [ops.dir({ path: vars.jupyterlab_spark_event_log_dir, mode: 0o3777 })] : []),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: CONFIG_FILE, content: serverConfig(jv), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: MIGRATED_MARKER, content: MIGRATED_TEXT, owner: 'root', group: user, mode: 0o644 }),
      ops.file({ path: ENV_FILE, content: envFile(jv, rt), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(token), owner: 'root', group: user, mode: 0o640, secret: true, notify }),
      ops.dir({ path: `${JUPYTER_PATH}/kernels/python3`, owner: 'root', group: user, mode: 0o755 }),
      ops.file({ path: KERNEL_SPEC, content: kernelSpec(jv), owner: 'root', group: user, mode: 0o644 }),
      ops.dir({ path: SPARK_CONF, owner: 'root', group: user, mode: 0o755 }),
      ops.file({
        path: `${SPARK_CONF}/spark-defaults.conf`,
        content: sparkDefaults(jv, { master: masterUrl(jv, group(vars.jupyterlab_spark_master_group)), driverHost: vars.jupyterlab_spark_driver_host || host.address }),
        owner: 'root',
        group: user,
        mode: 0o644,
      }),
      // resource_limits.jupyterlab (vps-trio: the document's spark-jupyter, 1024 MiB / 0.5 CPU) becomes MemoryMax= / CPUQuota=
      ops.unit({ name: 'jupyterlab.service', content: unit(jv), notify, resources: serviceLimits(host.vars, 'jupyterlab') }),
      ops.service({ name: 'jupyterlab', enabled: true, state: 'started' }),
      ops.healthCheck({
        name: `JupyterLab on ${host.name} answers /api/status with its token on ${vars.jupyterlab_port} (jupyter_server ${serverVersion(lockText)})`,
        command: healthCheck(host.address, vars.jupyterlab_port, serverVersion(lockText)),
        timeoutS: vars.jupyterlab_health_timeout,
        intervalS: 2,
      }),
    ];
  },
});
