/**
 * MLflow's files, typed: the lock of a release (kept in the repository, installed by ops.pythonVenv), the non-secret
 * and the secret EnvironmentFiles, the schema helper (status / migrate of the backend store), the systemd unit, and
 * the commands and checks the role runs.
 */
import { pythonLocks } from '../../src/role/python-locks.js';
import { environmentFileValue, q } from '../../src/ops/index.js';

export const ETC = '/etc/mlflow';
export const ENV_FILE = `${ETC}/mlflow.env`;
export const SECRETS_FILE = `${ETC}/secrets.env`;

export interface MlflowVars {
  mlflow_version: string;
  mlflow_install_root: string;
  mlflow_user: string;
  mlflow_data_dir: string;
  mlflow_bind: string;
  mlflow_port: number;
  mlflow_workers: number;
  mlflow_gunicorn_timeout: number;
  mlflow_backend_store_uri: string;
  mlflow_backend_store_password: string;
  mlflow_artifacts_destination: string;
  mlflow_s3_endpoint_url: string;
  mlflow_s3_region: string;
  mlflow_s3_ignore_tls: boolean;
  mlflow_s3_access_key_id: string;
  mlflow_s3_secret_access_key: string;
}

const locks = pythonLocks('mlflow');
/** the lock's file name for a release */
export const lockName = (version: string) => locks.fileName(version);
/** the lock on the controller (in the repository) */
export const lockOnController = (version: string) => locks.onController(version);

export interface Paths {
  root: string;
  venv: string;
  /** the lock on the host, for the operator to read (ops.pythonVenv's `lock`) */
  lock: string;
  schemaScript: string;
  artifactsLocal: boolean;
}

export function paths(v: Pick<MlflowVars, 'mlflow_install_root' | 'mlflow_version' | 'mlflow_artifacts_destination'>): Paths {
  const root = v.mlflow_install_root;
  return { root, venv: `${root}/venv`, lock: `${root}/${lockName(v.mlflow_version)}`, schemaScript: `${root}/mlflow-schema.py`, artifactsLocal: v.mlflow_artifacts_destination.startsWith('/') };
}

// postgresql[+psycopg2]://user@host[:port]/database[?options]: the password never in the URI (PGPASSWORD, from secrets.env)
export const BACKEND_URI_PATTERN = '^postgresql(\\+psycopg2)?://[A-Za-z0-9_.-]+@[A-Za-z0-9_.:\\[\\]-]+(:[0-9]+)?/[A-Za-z0-9_.-]+(\\?[A-Za-z0-9_.=&%-]*)?$';

/** the database user of the backend store URI (the owner whose password PGPASSWORD carries) */
export function backendUser(uri: string): string {
  const m = /^[a-z0-9+]+:\/\/([^@/:]+)@/.exec(uri);
  if (!m) throw new Error(`mlflow_backend_store_uri ${JSON.stringify(uri)}: expected postgresql://USER@HOST:PORT/DATABASE (the password comes from mlflow_backend_store_password)`);
  return m[1];
}

/** Non-secret settings the server and the role's one-off commands share. */
export function envFile(v: MlflowVars): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a value holds a newline`)}`;
  const out = ['# Managed by orch (role mlflow): the environment of mlflow.service and of the role\'s schema commands'];
  out.push(line('HOME', v.mlflow_data_dir));
  if (!paths(v).artifactsLocal) {
    if (v.mlflow_s3_endpoint_url) out.push(line('MLFLOW_S3_ENDPOINT_URL', v.mlflow_s3_endpoint_url));
    out.push(line('AWS_DEFAULT_REGION', v.mlflow_s3_region));
    if (v.mlflow_s3_ignore_tls) out.push(line('MLFLOW_S3_IGNORE_TLS', 'true'));
  }
  return `${out.join('\n')}\n`;
}

/** The secrets: the backend store's password (libpq's PGPASSWORD) and the S3 keys. */
export function secretsEnv(v: MlflowVars): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a secret holds a newline`)}`;
  const out = ['# Managed by orch (role mlflow): secrets of mlflow.service (root:mlflow 0640)'];
  if (v.mlflow_backend_store_password) out.push(line('PGPASSWORD', v.mlflow_backend_store_password));
  if (!paths(v).artifactsLocal && v.mlflow_s3_access_key_id) {
    out.push(line('AWS_ACCESS_KEY_ID', v.mlflow_s3_access_key_id));
    out.push(line('AWS_SECRET_ACCESS_KEY', v.mlflow_s3_secret_access_key));
  }
  return `${out.join('\n')}\n`;
}

/** an argument of ExecStart (systemd's quoting: double quotes, \ and " escaped; $ doubled, % doubled) */
function arg(x: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(x)) return x;
  return `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

/** `mlflow server` with the role's settings (artifacts proxied by the server: clients need no S3 credentials) */
export function serverArgs(v: MlflowVars): string[] {
  return [
    `${paths(v).venv}/bin/mlflow`, 'server',
    '--host', v.mlflow_bind,
    '--port', String(v.mlflow_port),
    '--workers', String(v.mlflow_workers),
    '--backend-store-uri', v.mlflow_backend_store_uri,
    '--serve-artifacts',
    '--artifacts-destination', v.mlflow_artifacts_destination,
    '--gunicorn-opts', `--timeout ${v.mlflow_gunicorn_timeout} --graceful-timeout 30`,
  ];
}

export function unit(v: MlflowVars): string {
  const p = paths(v);
  return `# Managed by orch (role mlflow)
[Unit]
Description=MLflow ${v.mlflow_version} tracking server
Documentation=https://mlflow.org/docs/${v.mlflow_version}/tracking/server.html
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.mlflow_user}
Group=${v.mlflow_user}
WorkingDirectory=${v.mlflow_data_dir}
# mlflow server starts gunicorn from PATH
Environment=PATH=${p.venv}/bin:/usr/local/bin:/usr/bin:/bin
EnvironmentFile=${ENV_FILE}
EnvironmentFile=${SECRETS_FILE}
ExecStart=${serverArgs(v).map(arg).join(' ')}
LimitNOFILE=65536
Restart=on-failure
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The backend store's schema, against the alembic revisions of the installed MLflow (no mlflow import for `status`:
 * a warm run's guard costs a connection, not MLflow's start-up):
 *   status URI   exit 0 when the database is at the head revision, 1 when it is behind or empty
 *   migrate URI  an empty database gets MLflow's tables (stamped at head); one behind is upgraded (mlflow db upgrade)
 */
export const SCHEMA_SCRIPT = `# Managed by orch (role mlflow): the backend store's schema against the installed MLflow's migrations
import importlib.util
import os
import sys

import sqlalchemy
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

action, url = sys.argv[1], sys.argv[2]
spec = importlib.util.find_spec("mlflow")
head = ScriptDirectory(os.path.join(spec.submodule_search_locations[0], "store", "db_migrations")).get_current_head()
engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
with engine.connect() as conn:
    current = MigrationContext.configure(conn).get_current_revision()
    tables = sqlalchemy.inspect(conn).get_table_names()
engine.dispose()
print(f"backend store schema: head {head}, current {current or 'none'}, {len(tables)} tables")
if action == "status":
    sys.exit(0 if current == head else 1)
if action != "migrate":
    sys.exit(f"unknown action {action}")
if current == head:
    sys.exit(0)
from mlflow.store.db import utils

engine = utils.create_sqlalchemy_engine_with_retry(url)
if current is None:
    if tables:
        sys.exit(f"the database holds {len(tables)} tables but no alembic revision: not an MLflow backend store")
    utils._initialize_tables(engine)
else:
    utils._upgrade_db(engine)
engine.dispose()
print(f"backend store schema: now at {head}")
`;

/** POSIX sh: the schema helper as the service user, with the service's environment (both env files sourced) */
export function schemaCommand(v: MlflowVars, action: 'status' | 'migrate'): string {
  const p = paths(v);
  const inner = `set -a; . ${q(ENV_FILE)}; . ${q(SECRETS_FILE)}; set +a; exec ${q(`${p.venv}/bin/python`)} ${q(p.schemaScript)} "$1" "$2"`;
  return `runuser -u ${q(v.mlflow_user)} -- sh -c ${q(inner)} sh ${action} ${q(v.mlflow_backend_store_uri)}`;
}

/** POSIX sh: exit 0 once the server answers /health with OK and /version with its release */
export function healthCheck(address: string, port: number, version: string): string {
  const base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return `[ "$(curl -fsS --max-time 5 ${base}/health)" = OK ] && [ "$(curl -fsS --max-time 5 ${base}/version)" = ${q(version)} ]`;
}
