/**
 * Typed renderers of the airflow role: airflow.cfg (no secret in it), the EnvironmentFile with the secrets (the
 * metadata DB and broker URLs, the fernet and webserver secret keys), webserver_config.py, the CLI wrapper, the
 * systemd units, and the commands and checks (migrations, the admin user, /health).
 */
import { randomBytes } from 'node:crypto';
import { environmentFileValue, q } from '../../src/ops/index.js';

export const ETC = '/etc/airflow';
export const CONFIG_FILE = `${ETC}/airflow.cfg`;
export const ENV_FILE = `${ETC}/airflow.env`;
export const WEBSERVER_CONFIG_FILE = `${ETC}/webserver_config.py`;
export const CLI = '/usr/local/bin/airflow';

export type Executor = 'CeleryExecutor' | 'LocalExecutor';

export interface AirflowVars {
  airflow_version: string;
  airflow_user: string;
  airflow_home: string;
  airflow_venv: string;
  airflow_dags_folder: string;
  airflow_logs_folder: string;
  airflow_plugins_folder: string;
  airflow_scripts_folder: string;
  airflow_executor: Executor;
  airflow_parallelism: number;
  airflow_max_active_tasks_per_dag: number;
  airflow_max_active_runs_per_dag: number;
  airflow_dags_are_paused_at_creation: boolean;
  airflow_load_examples: boolean;
  airflow_default_timezone: string;
  airflow_dag_dir_list_interval: number;
  airflow_db_host: string;
  airflow_db_port: number;
  airflow_db_name: string;
  airflow_db_user: string;
  airflow_db_password: string;
  airflow_db_pool_size: number;
  airflow_webserver_port: number;
  airflow_webserver_workers: number;
  airflow_webserver_base_url: string;
  airflow_webserver_secret_key: string;
  airflow_fernet_key: string;
  airflow_redis_port: number;
  airflow_redis_db: number;
  airflow_redis_password: string;
  airflow_redis_sentinel_master: string;
  airflow_worker_concurrency: number;
  airflow_worker_log_server_port: number;
  airflow_scheduler_health_check_threshold: number;
  airflow_scheduler_zombie_task_threshold: number;
  airflow_extra_config: Record<string, Record<string, string | number | boolean>>;
}

/** Everything the renderers need besides the variables: resolved on the controller from the inventory. */
export interface AirflowContext {
  /** the broker's address (the redis role's master), '' with LocalExecutor or through Sentinels */
  redisHost: string;
  /** the Sentinels that name the broker (address, port): Celery asks them for the master (kombu's sentinel://) */
  sentinels?: Array<[string, number]>;
  /** this host's address (the webserver's base_url when none is given) */
  address: string;
}

/** A URL's user or password: percent-encoded, and none of `!'()*` left, so it is a literal for sh and systemd alike. */
export function urlPart(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sqlAlchemyConn(v: AirflowVars): string {
  return `postgresql+psycopg2://${urlPart(v.airflow_db_user)}:${urlPart(v.airflow_db_password)}@${v.airflow_db_host}:${v.airflow_db_port}/${urlPart(v.airflow_db_name)}`;
}

/** Celery's result backend: the metadata database (the seed's db+postgresql://...). */
export function resultBackend(v: AirflowVars): string {
  return `db+postgresql://${urlPart(v.airflow_db_user)}:${urlPart(v.airflow_db_password)}@${v.airflow_db_host}:${v.airflow_db_port}/${urlPart(v.airflow_db_name)}`;
}

/**
 * Celery's broker: the Redis master itself (redis://), or, with Sentinels, every Sentinel (kombu's
 * sentinel://...;sentinel://...): the workers and the scheduler ask them for the current master, so a Sentinel
 * failover moves the broker with no change to the hosts. The password is the Redis servers' (the Sentinels ask none).
 */
export function brokerUrl(v: AirflowVars, c: Pick<AirflowContext, 'redisHost' | 'sentinels'>): string {
  const auth = v.airflow_redis_password ? `:${urlPart(v.airflow_redis_password)}@` : '';
  if (c.sentinels?.length) return c.sentinels.map(([h, p]) => `sentinel://${auth}${h}:${p}/${v.airflow_redis_db}`).join(';');
  return `redis://${auth}${c.redisHost}:${v.airflow_redis_port}/${v.airflow_redis_db}`;
}

/** A new fernet key as cryptography's Fernet.generate_key() makes it: 32 random bytes, urlsafe base64. */
export function generateFernetKey(): string {
  return randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
export const FERNET_KEY = /^[A-Za-z0-9_-]{43}=$/;

type Section = Record<string, string | number | boolean>;

/** The [section] key = value pairs airflow.cfg gets from the role's variables (secrets are not among them). */
export function configSections(v: AirflowVars, c: AirflowContext): Record<string, Section> {
  const logs = v.airflow_logs_folder;
  const sections: Record<string, Section> = {
    core: {
      dags_folder: v.airflow_dags_folder,
      plugins_folder: v.airflow_plugins_folder,
      executor: v.airflow_executor,
      parallelism: v.airflow_parallelism,
      max_active_tasks_per_dag: v.airflow_max_active_tasks_per_dag,
      max_active_runs_per_dag: v.airflow_max_active_runs_per_dag,
      dags_are_paused_at_creation: v.airflow_dags_are_paused_at_creation,
      load_examples: v.airflow_load_examples,
      default_timezone: v.airflow_default_timezone,
    },
    database: {
      sql_alchemy_pool_size: v.airflow_db_pool_size,
      load_default_connections: false,
    },
    logging: {
      base_log_folder: logs,
      dag_processor_manager_log_location: `${logs}/dag_processor_manager/dag_processor_manager.log`,
      worker_log_server_port: v.airflow_worker_log_server_port,
    },
    scheduler: {
      child_process_log_directory: `${logs}/scheduler`,
      dag_dir_list_interval: v.airflow_dag_dir_list_interval,
      scheduler_health_check_threshold: v.airflow_scheduler_health_check_threshold,
      scheduler_zombie_task_threshold: v.airflow_scheduler_zombie_task_threshold,
    },
    webserver: {
      web_server_host: '0.0.0.0',
      web_server_port: v.airflow_webserver_port,
      base_url: v.airflow_webserver_base_url || `http://${c.address}:${v.airflow_webserver_port}`,
      workers: v.airflow_webserver_workers,
      config_file: WEBSERVER_CONFIG_FILE,
      expose_config: false,
    },
    api: {
      auth_backends: 'airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session',
    },
  };
  if (v.airflow_executor === 'CeleryExecutor') sections.celery = { worker_concurrency: v.airflow_worker_concurrency };
  // through Sentinels: the master's name at them (kombu's master_name)
  if (v.airflow_executor === 'CeleryExecutor' && c.sentinels?.length) sections.celery_broker_transport_options = { master_name: v.airflow_redis_sentinel_master };
  for (const [name, entries] of Object.entries(v.airflow_extra_config)) sections[name] = { ...(sections[name] ?? {}), ...entries };
  return sections;
}

/** Keys the role sets itself (from its variables or in airflow.env): not to be given again in airflow_extra_config. */
export function roleKeys(v: AirflowVars, c: AirflowContext): Set<string> {
  const own = configSections({ ...v, airflow_extra_config: {} }, c);
  const keys = new Set(Object.entries(own).flatMap(([s, e]) => Object.keys(e).map((k) => `${s}.${k}`)));
  for (const k of ['core.fernet_key', 'database.sql_alchemy_conn', 'celery.broker_url', 'celery.result_backend', 'webserver.secret_key']) keys.add(k);
  return keys;
}

const cfgValue = (x: string | number | boolean) => (typeof x === 'boolean' ? (x ? 'True' : 'False') : String(x));

export function airflowCfg(v: AirflowVars, c: AirflowContext): string {
  const out = [
    '# Managed by orch (role airflow). Secrets are not here: the metadata DB and broker URLs, the fernet key and the',
    `# webserver secret key come from ${ENV_FILE} (AIRFLOW__<SECTION>__<KEY>), which the units and ${CLI} read.`,
  ];
  for (const [name, entries] of Object.entries(configSections(v, c))) {
    out.push('', `[${name}]`);
    for (const [k, x] of Object.entries(entries)) out.push(`${k} = ${cfgValue(x)}`);
  }
  return `${out.join('\n')}\n`;
}

/** The secrets, as the EnvironmentFile of every unit (0640 root:airflow). */
export function airflowEnv(v: AirflowVars, c: AirflowContext): string {
  const entries: Array<[string, string]> = [
    ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', sqlAlchemyConn(v)],
    ['AIRFLOW__CORE__FERNET_KEY', v.airflow_fernet_key],
    ['AIRFLOW__WEBSERVER__SECRET_KEY', v.airflow_webserver_secret_key],
  ];
  if (v.airflow_executor === 'CeleryExecutor') {
    entries.push(['AIRFLOW__CELERY__BROKER_URL', brokerUrl(v, c)], ['AIRFLOW__CELERY__RESULT_BACKEND', resultBackend(v)]);
  }
  return `${['# Managed by orch (role airflow): secrets of the Airflow services', ...entries.map(([k, x]) => `${k}=${environmentFileValue(x, `${k} has a newline`)}`)].join('\n')}\n`;
}

/** The Flask-AppBuilder config of the webserver: the metadata database's users (AUTH_DB), as Airflow's own default. */
export function webserverConfig(): string {
  return [
    '# Managed by orch (role airflow): Flask-AppBuilder settings of the webserver',
    'from flask_appbuilder.const import AUTH_DB',
    '',
    'WTF_CSRF_ENABLED = True',
    'WTF_CSRF_TIME_LIMIT = None',
    'AUTH_TYPE = AUTH_DB',
    '',
  ].join('\n');
}

/** The environment every unit and the CLI share (besides the EnvironmentFile). */
function baseEnvironment(v: AirflowVars): Array<[string, string]> {
  return [
    ['AIRFLOW_HOME', v.airflow_home],
    ['AIRFLOW_CONFIG', CONFIG_FILE],
    ['PATH', `${v.airflow_venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
  ];
}

/** `airflow` for root and the airflow user: the venv's CLI with the services' configuration and secrets, run as the airflow user. */
export function cliWrapper(v: AirflowVars): string {
  const env = baseEnvironment(v).map(([k, x]) => `${k}=${q(x)}`).join(' ');
  return [
    '#!/bin/sh',
    `# Managed by orch (role airflow): the Airflow ${v.airflow_version} CLI with the services' configuration, as user ${v.airflow_user}`,
    'set -e',
    'set -a',
    `. ${q(ENV_FILE)}`,
    'set +a',
    `export ${env}`,
    `if [ "$(id -u)" = 0 ]; then exec runuser -u ${q(v.airflow_user)} -- ${q(`${v.airflow_venv}/bin/airflow`)} "$@"; fi`,
    `exec ${q(`${v.airflow_venv}/bin/airflow`)} "$@"`,
    '',
  ].join('\n');
}

export type Component = 'scheduler' | 'webserver' | 'triggerer';

const DESCRIPTIONS: Record<Component | 'worker', string> = {
  scheduler: 'Apache Airflow scheduler',
  webserver: 'Apache Airflow webserver',
  triggerer: 'Apache Airflow triggerer',
  worker: 'Apache Airflow Celery worker %i',
};

function serviceUnit(v: AirflowVars, what: Component | 'worker', execStart: string): string {
  return [
    '# Managed by orch (role airflow)',
    '[Unit]',
    `Description=${DESCRIPTIONS[what]} ${v.airflow_version}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    `User=${v.airflow_user}`,
    `Group=${v.airflow_user}`,
    `WorkingDirectory=${v.airflow_home}`,
    ...baseEnvironment(v).map(([k, x]) => `Environment="${k}=${x}"`),
    `EnvironmentFile=${ENV_FILE}`,
    `ExecStart=${execStart}`,
    'Restart=always',
    'RestartSec=5',
    // gunicorn and celery stop their children on SIGTERM; give running tasks time to finish
    'KillMode=mixed',
    'TimeoutStopSec=120',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function componentUnit(v: AirflowVars, what: Component): string {
  const bin = `${v.airflow_venv}/bin/airflow`;
  const exec = what === 'webserver' ? `${bin} webserver --pid /run/airflow/webserver.pid` : `${bin} ${what}`;
  const unit = serviceUnit(v, what, exec);
  // the webserver's pid file (gunicorn's master) lives in a runtime directory systemd makes for the user
  return what === 'webserver' ? unit.replace('Restart=always', 'RuntimeDirectory=airflow\nRestart=always') : unit;
}

/**
 * The Celery worker template: instance N is `airflow-worker@N`, named `N@<host>` for Celery; its own options come
 * from its drop-in (AIRFLOW_WORKER_OPTIONS: only the first instance serves the host's task logs on
 * worker_log_server_port, the others run with --skip-serve-logs: they write into the same log folder).
 */
export function workerUnit(v: AirflowVars): string {
  return serviceUnit(v, 'worker', `${v.airflow_venv}/bin/airflow celery worker --celery-hostname %i@%H --concurrency \${AIRFLOW_WORKER_CONCURRENCY} $AIRFLOW_WORKER_OPTIONS`);
}

export function workerInstances(v: AirflowVars, count: number, serviceLines: string[] = []): Array<{ id: string; environment: Record<string, string | number>; serviceLines: string[] }> {
  return Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    environment: { AIRFLOW_WORKER_CONCURRENCY: v.airflow_worker_concurrency, AIRFLOW_WORKER_OPTIONS: i === 0 ? '' : '--skip-serve-logs' },
    serviceLines,
  }));
}

/** Exits 0 when the metadata database's schema is that of the installed Airflow (no migration pending). */
export function migrationsCurrent(): string {
  return `${CLI} db check-migrations -t 0`;
}

export function migrateCommand(): string {
  return `${CLI} db migrate`;
}

/** Exits 0 when the admin user exists. */
export function adminExists(username: string): string {
  return `${CLI} users list -o json 2>/dev/null | grep -qF ${q(`"username": ${JSON.stringify(username)}`)}`;
}

/** Creates the admin user, the password on stdin (getpass reads it twice), never on a command line. */
export function adminCreate(o: { username: string; password: string; email: string; firstname: string; lastname: string }): string {
  return `printf '%s\\n%s\\n' ${q(o.password)} ${q(o.password)} | ${CLI} users create --role Admin --username ${q(o.username)} --email ${q(o.email)} --firstname ${q(o.firstname)} --lastname ${q(o.lastname)}`;
}

/** Exits 0 when the webserver's /health reports the metadatabase and the scheduler healthy. */
export function healthCheck(v: AirflowVars, address: string): string {
  const py = 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["metadatabase"]["status"]=="healthy" and d["scheduler"]["status"]=="healthy" else 1)';
  return `curl -fsS --max-time 10 ${q(`http://${address}:${v.airflow_webserver_port}/health`)} | ${q(`${v.airflow_venv}/bin/python`)} -c ${q(py)}`;
}

/** Exits 0 when a job of this type (SchedulerJob, TriggererJob) of this host is alive (heartbeating). */
export function jobAlive(type: 'SchedulerJob' | 'TriggererJob'): string {
  return `${CLI} jobs check --job-type ${type} --local`;
}

/** A command with the services' environment and secrets, as the airflow user (for checks that are not `airflow ...`). */
export function asAirflow(v: AirflowVars, cmd: string): string {
  const env = baseEnvironment(v).map(([k, x]) => `${k}=${q(x)}`).join(' ');
  return `( set -a; . ${q(ENV_FILE)}; set +a; export ${env}; exec runuser -u ${q(v.airflow_user)} -- sh -c ${q(cmd)} )`;
}

/** Exits 0 when Celery worker instance `id` of this host answers a ping through the broker. */
export function workerPing(v: AirflowVars, id: string): string {
  return asAirflow(v, `${q(`${v.airflow_venv}/bin/celery`)} --app airflow.providers.celery.executors.celery_executor.app inspect ping --timeout 10 -d "${id}@$(hostname)"`);
}
