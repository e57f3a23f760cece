/**
 * Superset's files, typed: the lock of a release, superset_config.py (no secret in it: it reads them from the
 * environment), the non-secret and the secret EnvironmentFiles, the state helper (schema, init, admin user), the
 * gunicorn unit, and the commands and checks the role runs.
 */
import { randomBytes } from 'node:crypto';
import { pythonLocks } from '../../src/role/python-locks.js';
import { environmentFileValue, q } from '../../src/ops/index.js';

export const ETC = '/etc/superset';
export const CONFIG_FILE = `${ETC}/superset_config.py`;
export const ENV_FILE = `${ETC}/superset.env`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
/** SUPERSET_SECRET_KEY's shape: what `openssl rand -base64 42` (Superset's advice) and the generator make, or longer */
export const SECRET_KEY_PATTERN = /^[A-Za-z0-9+/=_.-]{32,}$/;

export interface SupersetVars {
  superset_version: string;
  superset_install_root: string;
  superset_user: string;
  superset_data_dir: string;
  superset_bind: string;
  superset_port: number;
  superset_workers: number;
  superset_threads: number;
  superset_gunicorn_timeout: number;
  superset_database_uri: string;
  superset_database_password: string;
  superset_secret_key: string;
  superset_admin_username: string;
  superset_admin_password: string;
  superset_admin_email: string;
  superset_redis_db: number;
  superset_redis_password: string;
  superset_cache_timeout: number;
  superset_row_limit: number;
  superset_extra_config: string;
}

/** Where Superset's Redis is: one server, or the Sentinels that know the master (the seeds' layout) */
export type RedisTarget = { kind: 'server'; host: string; port: number } | { kind: 'sentinel'; sentinels: Array<[string, number]>; master: string };

const locks = pythonLocks('superset');
/** the lock's file name for a release */
export const lockName = (version: string) => locks.fileName(version);
/** the lock on the controller (in the repository) */
export const lockOnController = (version: string) => locks.onController(version);

export function paths(v: Pick<SupersetVars, 'superset_install_root' | 'superset_version' | 'superset_data_dir'>) {
  const root = v.superset_install_root;
  return { root, venv: `${root}/venv`, lock: `${root}/${lockName(v.superset_version)}`, helper: `${root}/superset-state.py`, initMarker: `${v.superset_data_dir}/.orch-superset-init` };
}

export const DATABASE_URI_PATTERN = '^postgresql(\\+psycopg2)?://[A-Za-z0-9_.-]+@[A-Za-z0-9_.:\\[\\]-]+(:[0-9]+)?/[A-Za-z0-9_.-]+(\\?[A-Za-z0-9_.=&%-]*)?$';

export function databaseUser(uri: string): string {
  const m = /^[a-z0-9+]+:\/\/([^@/:]+)@/.exec(uri);
  if (!m) throw new Error(`superset_database_uri ${JSON.stringify(uri)}: expected postgresql+psycopg2://USER@HOST:PORT/DATABASE (the password comes from superset_database_password)`);
  return m[1];
}

/** a new SECRET_KEY: 42 random bytes, base64 (as `openssl rand -base64 42`) */
export const generateSecretKey = () => randomBytes(42).toString('base64');

/** a Python string literal (JSON's escapes are Python's) */
const py = (s: string) => JSON.stringify(s);

function redisBlock(v: SupersetVars, redis: RedisTarget): string[] {
  const common = `"CACHE_REDIS_DB": ${v.superset_redis_db}, "CACHE_REDIS_PASSWORD": os.environ.get("SUPERSET_REDIS_PASSWORD") or None`;
  if (redis.kind === 'server') {
    return [
      `_REDIS = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": ${py(redis.host)}, "CACHE_REDIS_PORT": ${redis.port}, ${common}}`,
      `RATELIMIT_STORAGE_URI = "redis://" + (":" + quote(os.environ["SUPERSET_REDIS_PASSWORD"], safe="") + "@" if os.environ.get("SUPERSET_REDIS_PASSWORD") else "") + ${py(`${redis.host.includes(':') ? `[${redis.host}]` : redis.host}:${redis.port}/${v.superset_redis_db}`)}`,
    ];
  }
  // Flask-Limiter keeps its per-process memory storage here: limits' redis+sentinel storage sends the Redis password to
  // the Sentinels too, which have none (AUTH fails); the caches reach the master through the Sentinels
  const sentinels = redis.sentinels.map(([h, p]) => `(${py(h)}, ${p})`).join(', ');
  return [`_REDIS = {"CACHE_TYPE": "RedisSentinelCache", "CACHE_REDIS_SENTINELS": [${sentinels}], "CACHE_REDIS_SENTINEL_MASTER": ${py(redis.master)}, ${common}}`];
}

/** superset_config.py: the metadata database, the secret key and Redis from the environment; caches (and, with one Redis server, Flask-Limiter's storage) on Redis */
export function supersetConfig(v: SupersetVars, redis: RedisTarget): string {
  databaseUser(v.superset_database_uri);
  const cache = (prefix: string) => `{**_REDIS, "CACHE_DEFAULT_TIMEOUT": ${v.superset_cache_timeout}, "CACHE_KEY_PREFIX": ${py(prefix)}}`;
  const lines = [
    '# Managed by orch (role superset). Secrets are not here: secrets.env gives SUPERSET_SECRET_KEY,',
    '# SUPERSET_DATABASE_PASSWORD and SUPERSET_REDIS_PASSWORD to the service and to the role\'s commands.',
    'import os',
    'from urllib.parse import quote',
    '',
    'from sqlalchemy.engine.url import make_url',
    '',
    'SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]',
    `_DB = make_url(${py(v.superset_database_uri)})`,
    'if os.environ.get("SUPERSET_DATABASE_PASSWORD"):',
    '    _DB = _DB.set(password=os.environ["SUPERSET_DATABASE_PASSWORD"])',
    'SQLALCHEMY_DATABASE_URI = _DB.render_as_string(hide_password=False)',
    `DATA_DIR = ${py(v.superset_data_dir)}`,
    `SUPERSET_WEBSERVER_PORT = ${v.superset_port}`,
    `ROW_LIMIT = ${v.superset_row_limit}`,
    ...redisBlock(v, redis),
    `CACHE_CONFIG = ${cache('superset_')}`,
    `DATA_CACHE_CONFIG = ${cache('superset_data_')}`,
    `FILTER_STATE_CACHE_CONFIG = ${cache('superset_filter_')}`,
    `EXPLORE_FORM_DATA_CACHE_CONFIG = ${cache('superset_explore_')}`,
  ];
  if (v.superset_extra_config.trim()) lines.push('', '# superset_extra_config', v.superset_extra_config.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** Non-secret environment of the service and the role's commands */
export function envFile(v: SupersetVars): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a value holds a newline`)}`;
  return `${[
    '# Managed by orch (role superset): the environment of superset.service and of the role\'s commands',
    line('SUPERSET_CONFIG_PATH', CONFIG_FILE),
    line('SUPERSET_HOME', v.superset_data_dir),
    line('HOME', v.superset_data_dir),
    line('FLASK_APP', 'superset'),
  ].join('\n')}\n`;
}

/** The secrets: SECRET_KEY (the cluster value), the metadata database's and Redis's passwords */
export function secretsEnv(v: SupersetVars): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a secret holds a newline`)}`;
  if (!SECRET_KEY_PATTERN.test(v.superset_secret_key)) throw new Error('superset_secret_key: expected 32 or more characters of A-Z a-z 0-9 + / = _ . -');
  const out = ['# Managed by orch (role superset): secrets of superset.service (root:superset 0640)', line('SUPERSET_SECRET_KEY', v.superset_secret_key)];
  if (v.superset_database_password) out.push(line('SUPERSET_DATABASE_PASSWORD', v.superset_database_password));
  if (v.superset_redis_password) out.push(line('SUPERSET_REDIS_PASSWORD', v.superset_redis_password));
  return `${out.join('\n')}\n`;
}

/** POSIX sh printing the SECRET_KEY a host holds (its secrets.env), for the cluster value */
export const readSecretKey = `sed -n 's/^SUPERSET_SECRET_KEY="\\([A-Za-z0-9+/=_.-]*\\)"$/\\1/p' ${SECRETS_FILE} 2>/dev/null`;

function arg(x: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(x)) return x;
  return `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

export function gunicornArgs(v: SupersetVars): string[] {
  const bind = v.superset_bind.includes(':') ? `[${v.superset_bind}]` : v.superset_bind;
  return [
    `${paths(v).venv}/bin/gunicorn`,
    '--bind', `${bind}:${v.superset_port}`,
    '--workers', String(v.superset_workers),
    '--worker-class', 'gthread',
    '--threads', String(v.superset_threads),
    '--timeout', String(v.superset_gunicorn_timeout),
    '--limit-request-line', '0',
    '--limit-request-field_size', '0',
    'superset.app:create_app()',
  ];
}

export function unit(v: SupersetVars): string {
  return `# Managed by orch (role superset)
[Unit]
Description=Apache Superset ${v.superset_version} (gunicorn)
Documentation=https://superset.apache.org/docs/configuration/configuring-superset
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.superset_user}
Group=${v.superset_user}
WorkingDirectory=${v.superset_data_dir}
Environment=PATH=${paths(v).venv}/bin:/usr/local/bin:/usr/bin:/bin
EnvironmentFile=${ENV_FILE}
EnvironmentFile=${SECRETS_FILE}
ExecStart=${gunicornArgs(v).map(arg).join(' ')}
LimitNOFILE=65536
Restart=on-failure
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
`;
}

/**
 * What the metadata database holds, without starting Superset (a warm run's guards cost a connection each):
 *   schema URI        exit 0 when the database is at the installed Superset's alembic head
 *   init URI MARKER   exit 0 when `superset init` ran for this release (MARKER holds it) and its roles are there
 *   user URI NAME     exit 0 when the user exists
 * The password is SUPERSET_DATABASE_PASSWORD (from secrets.env), never an argument.
 */
export const STATE_SCRIPT = `# Managed by orch (role superset): the metadata database's state, read without starting Superset
import ast
import importlib.util
import os
import sys

import sqlalchemy
from alembic.migration import MigrationContext
from sqlalchemy.engine.url import make_url



def migrations_head():
    """the installed release's head revision, read from its migration files (loading them would need the app)"""
    versions = os.path.join(importlib.util.find_spec("superset").submodule_search_locations[0], "migrations", "versions")
    revisions, parents = set(), set()
    for name in os.listdir(versions):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(versions, name), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id == "revision":
                    revisions.add(ast.literal_eval(node.value))
                elif node.targets[0].id == "down_revision":
                    down = ast.literal_eval(node.value)
                    parents.update(down if isinstance(down, (tuple, list)) else [down])
    heads = revisions - parents
    if len(heads) != 1:
        sys.exit(f"superset migrations: {len(heads)} heads ({', '.join(sorted(heads))})")
    return heads.pop()


action, url = sys.argv[1], make_url(sys.argv[2])
if os.environ.get("SUPERSET_DATABASE_PASSWORD"):
    url = url.set(password=os.environ["SUPERSET_DATABASE_PASSWORD"])
engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
with engine.connect() as conn:
    if action == "schema":
        current = MigrationContext.configure(conn).get_current_revision()
        head = migrations_head()
        print(f"metadata schema: head {head}, current {current or 'none'}")
        ok = current == head
    elif action == "init":
        marker, release = sys.argv[3], sys.argv[4]
        done = os.path.exists(marker) and open(marker).read().strip() == release
        roles = sqlalchemy.inspect(conn).has_table("ab_role") and conn.execute(
            sqlalchemy.text("SELECT count(*) FROM ab_role r JOIN ab_permission_view_role p ON p.role_id = r.id WHERE r.name = 'Admin'")
        ).scalar()
        print(f"superset init: marker {'at ' + release if done else 'missing or older'}, Admin permissions {roles or 0}")
        ok = done and bool(roles)
    elif action == "user":
        found = sqlalchemy.inspect(conn).has_table("ab_user") and conn.execute(
            sqlalchemy.text("SELECT count(*) FROM ab_user WHERE username = :u"), {"u": sys.argv[3]}
        ).scalar()
        print(f"user {sys.argv[3]}: {'present' if found else 'absent'}")
        ok = bool(found)
    else:
        sys.exit(f"unknown action {action}")
engine.dispose()
sys.exit(0 if ok else 1)
`;

/** POSIX sh: `inner` as the service user with the service's environment; extra arguments as $1, $2, ... */
export function asService(v: SupersetVars, inner: string, args: string[] = []): string {
  const env = `set -a; . ${q(ENV_FILE)}; . ${q(SECRETS_FILE)}; set +a; cd ${q(v.superset_data_dir)}; ${inner}`;
  return `runuser -u ${q(v.superset_user)} -- sh -c ${q(env)} sh${args.map((a) => ` ${q(a)}`).join('')}`;
}

export function stateCheck(v: SupersetVars, action: 'schema' | 'init' | 'user'): string {
  const p = paths(v);
  const extra = action === 'init' ? [p.initMarker, `superset ${v.superset_version}`] : action === 'user' ? [v.superset_admin_username] : [];
  return asService(v, `exec ${q(`${p.venv}/bin/python`)} ${q(p.helper)} "$@"`, [action, v.superset_database_uri, ...extra]);
}

export const superset = (v: SupersetVars) => q(`${paths(v).venv}/bin/superset`);

export const dbUpgrade = (v: SupersetVars) => asService(v, `exec ${superset(v)} db upgrade`);

export function init(v: SupersetVars): string {
  const p = paths(v);
  return asService(v, `${superset(v)} init && printf '%s\\n' "$1" >${q(`${p.initMarker}.tmp`)} && mv ${q(`${p.initMarker}.tmp`)} ${q(p.initMarker)}`, [`superset ${v.superset_version}`]);
}

/** fab create-admin with the password on stdin (click's prompt and its confirmation): never on a command line */
export function createAdmin(v: SupersetVars): string {
  if (/[\n\r]/.test(v.superset_admin_password)) throw new Error('superset_admin_password: a newline cannot be typed at the prompt');
  const cmd = `${superset(v)} fab create-admin --username "$1" --firstname Superset --lastname Admin --email "$2"`;
  return `printf '%s\\n%s\\n' ${q(v.superset_admin_password)} ${q(v.superset_admin_password)} | ${asService(v, cmd, [v.superset_admin_username, v.superset_admin_email])}`;
}

export function healthCheck(address: string, port: number): string {
  const base = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return `[ "$(curl -fsS --max-time 5 ${base}/health)" = OK ]`;
}
