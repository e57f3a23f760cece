/**
 * airflow: Apache Airflow from PyPI in a venv (datalyptica-minimal-5vm.md: scheduler and webserver 8082 on VM4, two
 * Celery workers on VM5, 2.10.4; datalyptica-enterprise-50vm.md "8. Airflow (Celery Executor with HA)";
 * vps-trio-resource-analysis.md VPS 1: 2.8.4, LocalExecutor with its own PostgreSQL on 5433). See DOC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ops, q, serviceLimit, serviceLimits, type Operation } from '../../src/ops/index.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import { pythonLocks } from '../../src/role/python-locks.js';
import { defineRole } from '../../src/role/define.js';
import type { ClusterValueSpec } from '../../src/role/cluster.js';
import type { OfflineContext, PeerHost } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { redisPasswordValue } from '../redis/render.js';
import {
  CLI,
  CONFIG_FILE,
  ENV_FILE,
  ETC,
  FERNET_KEY,
  WEBSERVER_CONFIG_FILE,
  adminCreate,
  adminExists,
  airflowCfg,
  airflowEnv,
  cliWrapper,
  componentUnit,
  generateFernetKey,
  healthCheck,
  jobAlive,
  migrateCommand,
  migrationsCurrent,
  roleKeys,
  webserverConfig,
  workerInstances,
  workerPing,
  workerUnit,
  type AirflowContext,
  type AirflowVars,
  type Component,
} from './render.js';

/** The lock of an Airflow version for a Python minor version (roles/airflow/locks/airflow-<version>-py<python>.txt). */
export const lockFileOf = (version: string, python: string) => pythonLocks('airflow').onController(version, python);

const DOC = `
airflow: Apache Airflow in a venv on every host of airflow_group, each host running what its groups say: the
scheduler and the triggerer (airflow_scheduler_group, airflow_triggerer_group), the webserver
(airflow_webserver_group), Celery workers (airflow_worker_group, airflow_worker_instances of them per host).

- Install: a venv (airflow_venv) made with the host's python3 (Debian 12: 3.11, as the seeds ask) holding exactly the
  pins of the lock kept in the repository per version (roles/airflow/locks/airflow-<version>-py3.11.txt:
  apache-airflow[celery,postgres,redis] and every dependency, with PyPI's hashes). The controller builds the
  wheelhouse once (pip wheel --require-hashes from PyPI or airflow_index_url, cached) and pushes it: hosts need no
  package index. The venv's pip freeze is the fact: a rerun installs nothing, a version bump only what differs.
- Configuration: ${CONFIG_FILE} (no secrets: executor, folders, parallelism, the seed's scheduler thresholds,
  webserver port and workers; airflow_extra_config for more), ${WEBSERVER_CONFIG_FILE} (AUTH_DB). The secrets, i.e.
  the metadata DB URL (postgresql+psycopg2), Celery's broker (through the redis-sentinel role's Sentinels,
  sentinel://...;sentinel://... with master_name in [celery_broker_transport_options], so a failover moves it; without
  Sentinels redis://, the redis role's master; or airflow_redis_host) and result backend
  (db+postgresql://, the seed's), the fernet key and the webserver secret key, are only in ${ENV_FILE}
  (0640 root:airflow), the units' EnvironmentFile. ${CLI} runs the venv's CLI with both, as the airflow user.
- Cluster values: airflow_fernet_key and airflow_webserver_secret_key are generated once (Fernet.generate_key's
  format; 32 hex digits), identical on every host of airflow_group, and kept (read back from ${ENV_FILE}); the
  admin password likewise when airflow_admin_password is not given. The broker password is the redis role's
  cluster value redis_password (read from the Redis hosts) unless airflow_redis_password is given.
- Database: \`airflow db migrate\` runs only when \`airflow db check-migrations\` says the schema is behind the
  installed Airflow, on one host (the first of airflow_scheduler_group); the admin user (role Admin) is created
  there once, its password on stdin. The database and its owner are the PostgreSQL role's (postgresql_instances
  databases, postgresql_passwords / patroni's); with airflow_db_password empty the role reads the owner's password
  that patroni generated (cluster value db_password_<owner> of airflow_database_group).
- Units: airflow-scheduler, airflow-triggerer, airflow-webserver, and airflow-worker@N (Celery node N@<host>; only
  instance 1 serves the host's task logs on airflow_worker_log_server_port). A changed venv, airflow.cfg, secrets or
  unit restarts the host's Airflow services. resource_limits.<unit name> gives MemoryMax=/CPUQuota= (vps-trio),
  which \`orch plan\`'s capacity table then counts instead of the seed's sizes.
- Health: the webserver's /health reports metadatabase and scheduler "healthy"; each worker answers a Celery ping.
- LocalExecutor (vps-trio): no broker, no workers; tasks run on the scheduler's host.
`;

const EXECUTORS = ['CeleryExecutor', 'LocalExecutor'] as const;

export default defineRole({
  name: 'airflow',
  doc: DOC,
  description: 'Apache Airflow (PyPI, pinned lock, pushed wheelhouse): scheduler, triggerer, webserver, Celery workers; fernet and secret keys as cluster values',
  vars: {
    airflow_version: v.str({ default: '2.10.4', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Airflow release (the datalyptica seeds: 2.10.4; vps-trio: 2.8.4): a lock roles/airflow/locks/airflow-<version>-py<airflow_python_version>.txt must exist' }),
    airflow_python_version: v.str({ default: '3.11', pattern: '^3\\.[0-9]+$', doc: "Python minor version of the venv (the seeds: 3.11); the host's airflow_python must be it" }),
    airflow_python: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_./-]*$', doc: "interpreter that creates the venv, a Python airflow_python_version (the lock's wheels are cp311); empty: the distribution's, python3 on Debian 12, python3.11 (installed) on RHEL, whose python3 is 3.9" }),
    airflow_index_url: v.str({ default: '', emptyAllowed: true, doc: "the site's package index the controller builds the wheelhouse from; empty: PyPI" }),
    airflow_user: v.str({ default: 'airflow', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (and group)' }),
    airflow_home: v.str({ default: '/opt/airflow', pattern: '^/', doc: 'AIRFLOW_HOME (owned by the service user)' }),
    airflow_venv: v.str({ default: '/opt/airflow/venv', pattern: '^/', doc: 'the venv (owned by root)' }),
    airflow_dags_folder: v.str({ default: '/opt/airflow/dags', pattern: '^/', doc: "[core] dags_folder (vps-trio's airflow_dags volume)" }),
    airflow_logs_folder: v.str({ default: '/opt/airflow/logs', pattern: '^/', doc: '[logging] base_log_folder' }),
    airflow_plugins_folder: v.str({ default: '/opt/airflow/plugins', pattern: '^/', doc: '[core] plugins_folder' }),
    airflow_scripts_folder: v.str({ default: '/opt/airflow/scripts', pattern: '^/', doc: "scripts the DAGs call (vps-trio's airflow_scripts volume)" }),
    airflow_executor: v.oneOf(EXECUTORS, { default: 'CeleryExecutor', doc: '[core] executor: CeleryExecutor (the datalyptica seeds) or LocalExecutor (vps-trio)' }),
    airflow_group: v.str({ default: 'airflow', doc: 'inventory group of every Airflow host (the holders of the fernet and secret keys)' }),
    airflow_scheduler_group: v.str({ default: 'airflow_scheduler', doc: 'hosts running the scheduler (minimal-5vm: VM4); the first one also migrates the database and creates the admin user' }),
    airflow_triggerer_group: v.str({ default: '', emptyAllowed: true, doc: 'hosts running the triggerer; empty: the scheduler hosts' }),
    airflow_webserver_group: v.str({ default: 'airflow_webserver', doc: 'hosts running the webserver (minimal-5vm: VM4)' }),
    airflow_worker_group: v.str({ default: 'airflow_worker', doc: 'hosts running Celery workers (minimal-5vm: VM5)' }),
    airflow_worker_instances: v.int({ default: 2, minimum: 0, maximum: 32, doc: 'Celery workers per worker host (minimal-5vm: two on VM5, 16 GB / 4 CPU each)' }),
    airflow_worker_concurrency: v.int({ default: 16, minimum: 1, doc: "[celery] worker_concurrency: task slots per worker (Airflow's default)" }),
    airflow_worker_log_server_port: v.port({ default: 8793, doc: "[logging] worker_log_server_port: the worker host's task logs, for the webserver" }),
    airflow_parallelism: v.int({ default: 32, minimum: 1, doc: '[core] parallelism: running task instances per scheduler' }),
    airflow_max_active_tasks_per_dag: v.int({ default: 16, minimum: 1, doc: '[core] max_active_tasks_per_dag' }),
    airflow_max_active_runs_per_dag: v.int({ default: 16, minimum: 1, doc: '[core] max_active_runs_per_dag' }),
    airflow_dags_are_paused_at_creation: v.bool({ default: true, doc: '[core] dags_are_paused_at_creation' }),
    airflow_load_examples: v.bool({ default: false, doc: '[core] load_examples' }),
    airflow_default_timezone: v.str({ default: 'utc', doc: '[core] default_timezone' }),
    airflow_dag_dir_list_interval: v.int({ default: 300, minimum: 1, doc: '[scheduler] dag_dir_list_interval: seconds between scans of the dags folder for new files' }),
    airflow_scheduler_health_check_threshold: v.int({ default: 30, minimum: 1, doc: '[scheduler] scheduler_health_check_threshold (datalyptica-enterprise-50vm: 30)' }),
    airflow_scheduler_zombie_task_threshold: v.int({ default: 300, minimum: 1, doc: '[scheduler] scheduler_zombie_task_threshold (datalyptica-enterprise-50vm: 300)' }),
    airflow_db_host: v.str({ default: 'pg-vip', doc: "metadata database host (the seed's pg-vip: Patroni's primary through HAProxy; vps-trio: localhost)" }),
    airflow_db_port: v.port({ default: 5432, doc: 'metadata database port (vps-trio: 5433, its metadata-db)' }),
    airflow_db_name: v.str({ default: 'airflow', doc: 'metadata database' }),
    airflow_db_user: v.str({ default: 'airflow', doc: 'its owner' }),
    airflow_db_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "the owner's password (secret, from a secrets file): only in airflow.env; empty: the one generated for the owner on airflow_database_group's cluster (cluster value db_password_<airflow_db_user>)" }),
    airflow_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: "inventory group of the PostgreSQL cluster whose generated owner password the role reads when airflow_db_password is empty (the datalyptica deployments: patroni); empty: none" }),
    airflow_db_pool_size: v.int({ default: 5, minimum: 1, doc: '[database] sql_alchemy_pool_size per process' }),
    airflow_redis_group: v.str({ default: 'redis', doc: "inventory group of the redis role's servers: the broker is its master (redis_master_host)" }),
    airflow_redis_sentinel_group: v.str({ default: 'redis_sentinel', doc: "the Sentinels' group (where the redis role keeps redis_password when it has hosts): when it has hosts and airflow_redis_host is empty, Celery finds the broker through them (sentinel://), so a failover moves it" }),
    airflow_redis_sentinel_port: v.port({ default: 26379, doc: 'Sentinel port' }),
    airflow_redis_sentinel_master: v.str({ default: 'datalyptica', pattern: '^[A-Za-z0-9._-]+$', doc: "the master's name at the Sentinels (the redis role's redis_sentinel_master_name)" }),
    airflow_redis_host: v.str({ default: '', emptyAllowed: true, doc: "the broker's address (then not through the Sentinels); empty: through the Sentinels when the inventory has them, else the address of the redis group's redis_master_host" }),
    airflow_redis_port: v.port({ default: 6379, doc: 'broker port' }),
    airflow_redis_db: v.int({ default: 0, minimum: 0, maximum: 15, doc: 'Redis database of the broker (the seed: /0)' }),
    airflow_redis_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "broker password (secret); empty: the redis role's cluster value redis_password" }),
    airflow_webserver_port: v.port({ default: 8082, doc: '[webserver] web_server_port (minimal-5vm: 8082 on VM4; vps-trio and enterprise-50vm: 8080)' }),
    airflow_webserver_workers: v.int({ default: 4, minimum: 1, doc: '[webserver] workers (gunicorn)' }),
    airflow_webserver_base_url: v.str({ default: '', emptyAllowed: true, doc: "[webserver] base_url (e.g. http://airflow.datalyptica.local behind HAProxy); empty: the host's address and port" }),
    airflow_fernet_key: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'fernet key (secret); empty: generated once for the cluster and kept (cluster value airflow_fernet_key)' }),
    airflow_webserver_secret_key: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'webserver secret key (secret); empty: generated once for the cluster and kept' }),
    airflow_admin_create: v.bool({ default: true, doc: 'create the admin user once' }),
    airflow_admin_username: v.str({ default: 'admin', pattern: '^[A-Za-z0-9_.@-]+$', doc: 'admin user name' }),
    airflow_admin_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'admin password (secret); empty: generated once and kept in the engine copy /var/lib/orch/values/airflow_admin_password (root, 0600)' }),
    airflow_admin_email: v.str({ default: 'admin@datalyptica.local', doc: 'admin e-mail' }),
    airflow_extra_config: v.map<Record<string, string | number | boolean>>(
      { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      { default: {}, doc: 'more airflow.cfg settings: section -> key -> value (keys the role sets are refused)' },
    ),
    airflow_health_timeout: v.int({ default: 300, minimum: 10, doc: 'seconds the webserver may take to report healthy after a (re)start' }),
  },

  validate: (ctx) => {
    const { vars, host } = ctx;
    const out: string[] = [];
    if (!existsSync(lockFileOf(vars.airflow_version, vars.airflow_python_version))) {
      out.push(`airflow_version ${vars.airflow_version}: no lock roles/airflow/locks/airflow-${vars.airflow_version}-py${vars.airflow_python_version}.txt (resolve one with pip against PyPI, see the lock of 2.10.4)`);
    }
    if (!memberOf(ctx, vars.airflow_group)) out.push(`host ${host.name} runs airflow but is not in group ${vars.airflow_group} (the holders of the fernet key)`);
    const parts = components(ctx);
    if (!parts.length && !workerCount(ctx)) out.push(`host ${host.name} runs airflow but is in none of ${vars.airflow_scheduler_group}, ${vars.airflow_webserver_group}${vars.airflow_executor === 'CeleryExecutor' ? `, ${vars.airflow_worker_group}` : ''}: it would run nothing`);
    if (!ctx.group(vars.airflow_scheduler_group).length) out.push(`airflow_scheduler_group ${vars.airflow_scheduler_group} has no host: nothing would schedule or migrate the database`);
    if (vars.airflow_executor === 'CeleryExecutor' && !vars.airflow_redis_host && !sentinels(ctx).length && !redisMaster(ctx)) {
      out.push(`airflow_redis_host is empty, group ${vars.airflow_redis_sentinel_group} has no Sentinel and group ${vars.airflow_redis_group} has no host named by its redis_master_host: give the broker's address`);
    }
    if (vars.airflow_executor === 'LocalExecutor' && memberOf(ctx, vars.airflow_worker_group)) out.push(`host ${host.name} is in ${vars.airflow_worker_group} but airflow_executor is LocalExecutor (tasks run on the scheduler's host)`);
    const fixed = roleKeys(vars as unknown as AirflowVars, { redisHost: '', address: host.address });
    for (const [section, entries] of Object.entries(vars.airflow_extra_config)) {
      for (const k of Object.keys(entries)) if (fixed.has(`${section}.${k}`)) out.push(`airflow_extra_config.${section}.${k}: set by the role from its own variables`);
    }
    if (vars.airflow_db_password === '' && !(vars.airflow_database_group && ctx.group(vars.airflow_database_group).length)) {
      out.push(`airflow_db_password is empty and airflow_database_group ${JSON.stringify(vars.airflow_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group`);
    }
    if (vars.airflow_fernet_key && !FERNET_KEY.test(vars.airflow_fernet_key)) out.push('airflow_fernet_key: not a fernet key (32 bytes, urlsafe base64: 44 characters ending in =)');
    return out;
  },

  clusterValues: (ctx) => {
    const { vars } = ctx;
    const read = (key: string) => `sed -n ${q(`s/^${key}="\\(.*\\)"$/\\1/p`)} ${q(ENV_FILE)} 2>/dev/null | head -n 1`;
    const specs: ClusterValueSpec[] = [
      ...dbPassword(vars).declare,
      { name: 'airflow_fernet_key', doc: 'fernet key of the metadata database (connections, variables)', group: vars.airflow_group, secret: true, override: 'airflow_fernet_key', generate: generateFernetKey, pattern: FERNET_KEY, read: read('AIRFLOW__CORE__FERNET_KEY') },
      { name: 'airflow_webserver_secret_key', doc: "webserver secret key (signs sessions and the workers' log URLs)", group: vars.airflow_group, secret: true, override: 'airflow_webserver_secret_key', read: read('AIRFLOW__WEBSERVER__SECRET_KEY') },
    ];
    if (vars.airflow_admin_create) specs.push({ name: 'airflow_admin_password', doc: 'password of the Airflow admin user (set once, when the user is created)', group: vars.airflow_group, secret: true, override: 'airflow_admin_password' });
    if (vars.airflow_executor === 'CeleryExecutor' && !vars.airflow_redis_password) {
      specs.push(redisPasswordValue({ redis_group: vars.airflow_redis_group, redis_sentinel_group: vars.airflow_redis_sentinel_group }, ctx.group));
    }
    return specs;
  },

  declares: (ctx) => {
    const { vars } = ctx;
    const parts = components(ctx);
    const workers = workerCount(ctx);
    const ports = [
      ...(parts.includes('webserver') ? [{ port: vars.airflow_webserver_port, variable: 'airflow_webserver_port', description: 'Airflow webserver (UI, REST API, /health)' }] : []),
      // task logs are served where tasks run: the first worker of a host, or the scheduler with LocalExecutor
      ...(workers || (vars.airflow_executor === 'LocalExecutor' && parts.includes('scheduler')) ? [{ port: vars.airflow_worker_log_server_port, variable: 'airflow_worker_log_server_port', description: 'Airflow task log server' }] : []),
      ...(parts.includes('triggerer') ? [{ port: 8794, description: 'Airflow triggerer log server' }] : []),
    ];
    // the seed's figures (datalyptica-minimal-5vm.md): scheduler 8 GB / 4 CPUs, webserver 4 GB / 2, each worker 16 GB / 4;
    // a unit's resource_limits (vps-trio's container limits, its MemoryMax= / CPUQuota=) replace them
    const size = (unit: string, memoryMb: number, cpus: number): [number, number] => {
      const l = serviceLimit(ctx.host.vars, unit);
      return [l?.memory_mb ?? memoryMb, l?.cpus ?? cpus];
    };
    const sizes = [
      ...(parts.includes('scheduler') ? [size('airflow-scheduler', 8192, 4)] : []),
      ...(parts.includes('webserver') ? [size('airflow-webserver', 4096, 2)] : []),
      ...Array.from({ length: workers }, () => size('airflow-worker', 16384, 4)),
    ];
    const memoryMb = sizes.reduce((s, [m]) => s + m, 0);
    const cpus = Math.round(sizes.reduce((s, [, c]) => s + c, 0) * 100) / 100;
    return { ports, memoryMb, cpus, serves: [vars.airflow_group, vars.airflow_scheduler_group, vars.airflow_webserver_group, vars.airflow_worker_group, ...(vars.airflow_triggerer_group ? [vars.airflow_triggerer_group] : [])] };
  },

  // a changed venv or configuration restarts a host's services one host at a time, each behind what "back" means
  // for what it runs: /health, the scheduler's and triggerer's jobs alive on this host, every worker answering a ping
  rollout: (ctx) => {
    const { vars, host } = ctx;
    const av = vars as unknown as AirflowVars;
    const parts = components(ctx);
    const workers = workerInstances(av, workerCount(ctx));
    const checks = [
      ...(parts.includes('webserver') ? [healthCheck(av, host.address)] : []),
      ...(parts.includes('scheduler') ? [jobAlive('SchedulerJob')] : []),
      ...(parts.includes('triggerer') ? [jobAlive('TriggererJob')] : []),
      ...workers.map((i) => workerPing(av, i.id)),
    ];
    return {
      services: [...parts.map((p) => `airflow-${p}`), ...(workers.length ? ['airflow-worker@*'] : [])],
      health: {
        command: checks.length ? checks.join(' && ') : 'true',
        description: `Airflow on ${host.name} back (${[...parts, ...(workers.length ? [`${workers.length} Celery workers`] : [])].join(', ')})`,
        timeoutSec: vars.airflow_health_timeout,
        intervalSec: 5,
      },
    };
  },

  operations: (ctx) => {
    const { vars, host, group, cluster } = ctx;
    const celery = vars.airflow_executor === 'CeleryExecutor';
    const av: AirflowVars = {
      ...(vars as unknown as AirflowVars),
      airflow_db_password: dbPassword(vars).value(cluster),
      airflow_fernet_key: cluster('airflow_fernet_key'),
      airflow_webserver_secret_key: cluster('airflow_webserver_secret_key'),
      airflow_redis_password: celery ? vars.airflow_redis_password || cluster('redis_password') : '',
    };
    const through = celery && !vars.airflow_redis_host ? sentinels(ctx) : [];
    const c: AirflowContext = { redisHost: celery && !through.length ? vars.airflow_redis_host || redisMaster(ctx)?.address || '' : '', sentinels: through, address: host.address };
    const user = vars.airflow_user;
    const parts = components(ctx);
    const workers = workerCount(ctx);
    const instances = workerInstances(av, workers);
    const services = [...parts.map((p) => `airflow-${p}`), ...instances.map((i) => `airflow-worker@${i.id}.service`)];
    const lockFile = lockFileOf(vars.airflow_version, vars.airflow_python_version);
    const lockText = readFileSync(lockFile, 'utf8');
    const lockOnHost = `${vars.airflow_home}/requirements-${vars.airflow_version}-py${vars.airflow_python_version}.txt`;
    const first = group(vars.airflow_scheduler_group)[0]?.name === host.name;
    const redhat = host.facts.osFamily === 'redhat';
    const out: Operation<any>[] = [
      ops.packages({ names: redhat ? [`python${vars.airflow_python_version}`, 'curl'] : ['python3', 'python3-venv', 'curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.airflow_home, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.dir({ path: vars.airflow_home, owner: user, group: user, mode: 0o750 }),
      ...[vars.airflow_dags_folder, vars.airflow_logs_folder, vars.airflow_plugins_folder, vars.airflow_scripts_folder].map((d) => ops.dir({ path: d, owner: user, group: user, mode: 0o755 })),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: lockOnHost, content: lockText, owner: 'root', group: 'root', mode: 0o644 }),
      ops.pythonVenv({
        venv: vars.airflow_venv,
        lock: lockOnHost,
        lockText,
        lockFile,
        wheelhouseOptions: { python: `python${vars.airflow_python_version}`, ...(vars.airflow_index_url ? { indexUrl: vars.airflow_index_url } : {}) },
        python: vars.airflow_python || (redhat ? `python${vars.airflow_python_version}` : 'python3'),
        notify: services,
      }),
      ops.file({ path: CONFIG_FILE, content: airflowCfg(av, c), owner: 'root', group: user, mode: 0o640, notify: services }),
      ops.file({ path: WEBSERVER_CONFIG_FILE, content: webserverConfig(), owner: 'root', group: user, mode: 0o640, notify: parts.includes('webserver') ? ['airflow-webserver'] : [] }),
      ops.file({ path: ENV_FILE, content: airflowEnv(av, c), owner: 'root', group: user, mode: 0o640, secret: true, notify: services }),
      ops.file({ path: CLI, content: cliWrapper(av), owner: 'root', group: 'root', mode: 0o755 }),
    ];
    if (first) {
      out.push(ops.command({ name: `airflow db migrate (the schema is behind Airflow ${vars.airflow_version})`, run: migrateCommand(), unless: migrationsCurrent() }));
      if (vars.airflow_admin_create) {
        out.push(
          ops.command({
            name: `airflow users create ${vars.airflow_admin_username} (role Admin), once`,
            run: adminCreate({ username: vars.airflow_admin_username, password: cluster('airflow_admin_password'), email: vars.airflow_admin_email, firstname: 'Airflow', lastname: 'Admin' }),
            unless: adminExists(vars.airflow_admin_username),
          }),
        );
      }
    }
    for (const p of parts) {
      out.push(
        ops.unit({ name: `airflow-${p}.service`, content: componentUnit(av, p), notify: [`airflow-${p}`], resources: serviceLimits(host.vars, `airflow-${p}`) }),
        ops.service({ name: `airflow-${p}`, enabled: true, state: 'started' }),
      );
    }
    {
      // always: a host that no longer runs workers (or LocalExecutor) has its instances removed
      const limits = serviceLimits(host.vars, 'airflow-worker');
      const lines = [...(limits?.memoryMax ? [`MemoryMax=${limits.memoryMax}`] : []), ...(limits?.cpuQuota ? [`CPUQuota=${limits.cpuQuota}`] : [])];
      out.push(...ops.instances({ service: 'airflow-worker', unit: workerUnit(av), instances: workerInstances(av, workers, lines) }));
    }
    if (parts.includes('webserver')) {
      out.push(ops.healthCheck({ name: `Airflow /health on ${host.name}:${vars.airflow_webserver_port}: metadatabase and scheduler healthy`, command: healthCheck(av, host.address), timeoutS: vars.airflow_health_timeout, intervalS: 5 }));
    }
    for (const i of instances) {
      out.push(ops.healthCheck({ name: `Celery worker ${i.id}@${host.facts.hostname || host.name} answers a ping`, command: workerPing(av, i.id), timeoutS: vars.airflow_health_timeout, intervalS: 5 }));
    }
    return out;
  },
});

const dbPassword = (vars: { airflow_db_password: string; airflow_db_user: string; airflow_database_group: string }) =>
  serviceDatabasePassword({ password: vars.airflow_db_password, owner: vars.airflow_db_user, group: vars.airflow_database_group });

type Ctx = OfflineContext<{ airflow_scheduler_group: string; airflow_triggerer_group: string; airflow_webserver_group: string; airflow_worker_group: string; airflow_worker_instances: number; airflow_executor: string; airflow_redis_group: string; airflow_redis_sentinel_group: string; airflow_redis_sentinel_port: number }>;

function memberOf(ctx: { host: PeerHost; group(name: string): PeerHost[] }, g: string): boolean {
  return !!g && ctx.group(g).some((p) => p.name === ctx.host.name);
}

/** The scheduler, triggerer and webserver this host runs, by its groups. */
function components(ctx: Ctx): Component[] {
  const v = ctx.vars;
  const out: Component[] = [];
  if (memberOf(ctx, v.airflow_scheduler_group)) out.push('scheduler');
  if (memberOf(ctx, v.airflow_triggerer_group || v.airflow_scheduler_group)) out.push('triggerer');
  if (memberOf(ctx, v.airflow_webserver_group)) out.push('webserver');
  return out;
}

function workerCount(ctx: Ctx): number {
  return ctx.vars.airflow_executor === 'CeleryExecutor' && memberOf(ctx, ctx.vars.airflow_worker_group) ? ctx.vars.airflow_worker_instances : 0;
}

/** The Sentinels Celery asks for the broker: the hosts of airflow_redis_sentinel_group, at airflow_redis_sentinel_port. */
function sentinels(ctx: Ctx): Array<[string, number]> {
  const g = ctx.vars.airflow_redis_sentinel_group;
  return g ? ctx.group(g).map((h): [string, number] => [h.address, ctx.vars.airflow_redis_sentinel_port]) : [];
}

/** The redis role's master: the host of the redis group its redis_master_host names. */
function redisMaster(ctx: Ctx): PeerHost | undefined {
  const members = ctx.group(ctx.vars.airflow_redis_group);
  const name = members.map((m) => m.vars.redis_master_host).find((x): x is string => typeof x === 'string');
  return members.find((m) => m.name === name) ?? (members.length === 1 ? members[0] : undefined);
}
