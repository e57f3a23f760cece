/**
 * superset: Apache Superset (datalyptica-minimal-5vm.md VM4, 8088; phase 8, analytics layer) with its metadata
 * database on PostgreSQL, caches and rate limits on Redis (the redis role's, through its Sentinels where the inventory
 * has them), SECRET_KEY a cluster value. See DOC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ops, serviceLimits } from '../../src/ops/index.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import { defineRole, type PeerHost } from '../../src/role/define.js';
import type { ClusterValueSpec } from '../../src/role/cluster.js';
import { v } from '../../src/role/vars.js';
import { redisPasswordValue } from '../redis/render.js';
import {
  CONFIG_FILE,
  DATABASE_URI_PATTERN,
  ENV_FILE,
  ETC,
  SECRETS_FILE,
  SECRET_KEY_PATTERN,
  STATE_SCRIPT,
  createAdmin,
  databaseUser,
  dbUpgrade,
  envFile,
  generateSecretKey,
  healthCheck,
  init,
  lockOnController,
  paths,
  readSecretKey,
  secretsEnv,
  stateCheck,
  supersetConfig,
  unit,
  type RedisTarget,
  type SupersetVars,
} from './render.js';

const DOC = `
superset: Apache Superset on the hosts of group superset (superset_group; the seeds: one, VM4 on 8088), served by
gunicorn (gthread workers).

- Install: Superset from PyPI, pinned: roles/superset/locks/superset-<version>-py3.11.txt (apache-superset +
  psycopg2-binary + redis + gunicorn, every package name==version with the sha256 of its file on PyPI, resolved with
  pip). The controller builds the wheels once (cached; apache-superset 4.1.1 is an sdist, built there) and pushes one
  verified tar; the host installs into <superset_install_root>/venv with no index (ops.pythonVenv): a rerun installs
  nothing.
- Configuration: /etc/superset/superset_config.py (SUPERSET_CONFIG_PATH) holds no secret: it reads SECRET_KEY and the
  passwords from the environment, which /etc/superset/secrets.env (0640 root:superset) gives the service and the
  role's commands. SECRET_KEY is a cluster value (superset_secret_key): generated once (42 random bytes, base64),
  identical on every host of superset_group, kept (read back from the hosts' secrets.env); changing it would make
  the stored database passwords unreadable, so a host holding another one stops the run.
- Metadata database: PostgreSQL, superset_database_uri (postgresql+psycopg2://USER@HOST:PORT/DATABASE, no password in
  it); the password from superset_database_password or, when empty, the owner's generated one on
  superset_database_group's cluster. The first host of the group runs \`superset db upgrade\` only when the database's
  alembic revision is not the installed release's head, \`superset init\` only when it has not run for this release
  (a marker in superset_data_dir and the Admin role's permissions in the database), and creates the admin user only
  when it is absent (fab create-admin, the password typed on its prompt through a pipe: never on a command line).
- Redis: CACHE_CONFIG, DATA_CACHE_CONFIG, FILTER_STATE_CACHE_CONFIG and EXPLORE_FORM_DATA_CACHE_CONFIG (key prefixes
  superset_, superset_data_, superset_filter_, superset_explore_) on Redis database superset_redis_db: through the
  Sentinels of superset_redis_sentinel_group (the master they name, failover followed) when that group has hosts,
  else the server superset_redis_host (default: the redis group's first host), which then also keeps Flask-Limiter's
  login rate limits (with Sentinels they stay per process: limits' Sentinel storage would send the Redis password to
  the Sentinels, which have none). The password: superset_redis_password, else the redis role's cluster value
  redis_password, read from the Redis (or Sentinel) hosts.
- Health: /health answers OK.
`;

export default defineRole({
  name: 'superset',
  doc: DOC,
  description: 'Apache Superset from PyPI (pinned lock, controller-built wheelhouse): PostgreSQL metadata DB, Redis caches, SECRET_KEY as a cluster value, db upgrade/init/admin once, gunicorn, systemd',
  vars: {
    superset_version: v.str({ default: '4.1.1', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'Superset release (the seeds: 4.1.1); roles/superset/locks must hold its lock' }),
    superset_group: v.str({ default: 'superset', doc: 'inventory group of the Superset hosts (minimal-5vm: VM4); they share SECRET_KEY; the first migrates' }),
    superset_install_root: v.str({ default: '/opt/superset', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'venv at ROOT/venv, the lock and the state helper beside it' }),
    superset_user: v.str({ default: 'superset', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (and group)' }),
    superset_data_dir: v.str({ default: '/var/lib/superset', pattern: '^/[A-Za-z0-9_./-]*$', doc: 'SUPERSET_HOME and DATA_DIR (uploads), home and working directory of the service' }),
    superset_python: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_./-]*$', doc: "interpreter creating the venv: a Python 3.11 (the lock's wheels are cp311); empty: the distribution's, python3 on Debian 12, python3.11 (installed) on RHEL" }),
    superset_bind: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F.:]+$', doc: 'address gunicorn listens on' }),
    superset_port: v.port({ default: 8088, doc: 'web server port (the seed: 8088)' }),
    superset_workers: v.int({ default: 4, minimum: 1, maximum: 64, doc: 'gunicorn workers' }),
    superset_threads: v.int({ default: 4, minimum: 1, maximum: 64, doc: 'threads per gunicorn worker (gthread)' }),
    superset_gunicorn_timeout: v.int({ default: 120, minimum: 10, doc: 'gunicorn worker timeout, seconds (long SQL Lab queries run async with Celery, which this role does not set up)' }),
    superset_database_uri: v.str({ default: 'postgresql+psycopg2://superset@pg-vip:5432/superset', pattern: DATABASE_URI_PATTERN, doc: 'metadata database: postgresql+psycopg2://USER@HOST:PORT/DATABASE, without the password (the seeds: the Patroni cluster behind HAProxy)' }),
    superset_database_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "the metadata database user's password (secret): only in secrets.env; empty: the one generated for the owner on superset_database_group's cluster" }),
    superset_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: 'inventory group of the PostgreSQL cluster whose generated owner password the role reads when superset_database_password is empty; empty: none' }),
    superset_secret_key: v.str({ default: '', emptyAllowed: true, secret: true, pattern: '^([A-Za-z0-9+/=_.-]{32,})?$', doc: "SECRET_KEY (secret; 32+ characters of A-Za-z0-9+/=_.-); empty: generated once and kept on the hosts (cluster value superset_secret_key). Never change it on a live site: Superset encrypts the databases' passwords with it" }),
    superset_admin_username: v.str({ default: 'admin', pattern: '^[A-Za-z0-9_.@-]+$', doc: 'the admin user created once' }),
    superset_admin_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "the admin user's password (secret), set when the user is created (later changes are the admin's, in Superset); empty: generated once (cluster value superset_admin_password; root reads it in /var/lib/orch/values/)" }),
    superset_admin_email: v.str({ default: 'admin@datalyptica.local', pattern: '^[^\\s@]+@[^\\s@]+$', doc: "the admin user's e-mail" }),
    superset_redis_sentinel_group: v.str({ default: 'redis_sentinel', emptyAllowed: true, doc: "inventory group of the Sentinels (the seeds' Redis with Sentinel): used when it has hosts" }),
    superset_redis_sentinel_port: v.port({ default: 26379, doc: 'Sentinel port' }),
    superset_redis_sentinel_master: v.str({ default: 'datalyptica', pattern: '^[A-Za-z0-9._-]+$', doc: "the master's name at the Sentinels (the redis role's redis_sentinel_master_name)" }),
    superset_redis_group: v.str({ default: 'redis', doc: "inventory group of the Redis servers (holding the redis role's password where there are no Sentinels)" }),
    superset_redis_host: v.str({ default: '', pattern: '^[A-Za-z0-9_.:-]*$', emptyAllowed: true, doc: "Redis server when there are no Sentinels: an address or inventory host name (its address is used); empty: the redis group's first host" }),
    superset_redis_port: v.port({ default: 6379, doc: 'Redis port' }),
    superset_redis_db: v.int({ default: 1, minimum: 0, maximum: 15, doc: "Redis database of Superset's caches and rate limits" }),
    superset_redis_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "Redis password (secret); empty: the redis role's cluster value redis_password, read from the Redis (or Sentinel) hosts" }),
    superset_cache_timeout: v.int({ default: 300, minimum: 0, doc: 'CACHE_DEFAULT_TIMEOUT of the caches, seconds' }),
    superset_row_limit: v.int({ default: 50000, minimum: 1, doc: 'ROW_LIMIT' }),
    superset_extra_config: v.str({ default: '', emptyAllowed: true, doc: 'Python appended to superset_config.py (FEATURE_FLAGS, AUTH_TYPE, ...)' }),
    superset_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds Superset may take to answer /health after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const out: string[] = [];
    if (!group(vars.superset_group).some((p) => p.name === host.name)) out.push(`host ${host.name} runs superset but is not in group ${vars.superset_group}`);
    if (!existsSync(lockOnController(vars.superset_version))) out.push(`superset_version ${vars.superset_version}: no lock ${lockOnController(vars.superset_version)} (resolve one with pip as README's "Python services" says)`);
    if (vars.superset_database_password === '' && vars.superset_database_group !== '' && !group(vars.superset_database_group).length) {
      out.push(`superset_database_password is empty and superset_database_group ${JSON.stringify(vars.superset_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group, or set superset_database_group to "" for a database without one`);
    }
    const target = redisTarget(vars, group);
    if (!target) out.push(`superset: no Redis: superset_redis_sentinel_group ${JSON.stringify(vars.superset_redis_sentinel_group)} and superset_redis_group ${JSON.stringify(vars.superset_redis_group)} have no hosts and superset_redis_host is empty`);
    if (vars.superset_redis_password === '' && target && !group(redisPasswordGroup(vars, group)).length) {
      out.push(`superset_redis_password is empty and no Redis group of the inventory holds the redis role's password: give superset_redis_password`);
    }
    return out;
  },

  declares: ({ vars }) => ({
    ports: [{ port: vars.superset_port, variable: 'superset_port', description: 'Superset web server' }],
    memoryMb: 4096,
    cpus: 2,
    serves: [vars.superset_group],
  }),

  clusterValues: ({ vars, group }) => {
    const out: ClusterValueSpec[] = [
      {
        name: 'superset_secret_key',
        doc: "Superset's SECRET_KEY (signs sessions, encrypts the stored database passwords)",
        group: vars.superset_group,
        secret: true,
        override: 'superset_secret_key',
        pattern: SECRET_KEY_PATTERN,
        generate: generateSecretKey,
        read: readSecretKey,
      },
      ...dbPassword(vars).declare,
      { name: 'superset_admin_password', doc: "the admin user's password (used when the user is created)", group: vars.superset_group, secret: true, override: 'superset_admin_password', overrideReplaces: true },
    ];
    if (vars.superset_redis_password === '') out.push(redisPasswordValue({ redis_group: vars.superset_redis_group, redis_sentinel_group: vars.superset_redis_sentinel_group || vars.superset_redis_group }, group));
    return out;
  },

  rollout: ({ vars, host }) => ({
    services: ['superset'],
    health: { command: healthCheck(host.address, vars.superset_port), description: `Superset on ${host.name} answers /health`, timeoutSec: vars.superset_health_timeout, intervalSec: 3 },
  }),

  operations: ({ vars, host, group, cluster }) => {
    const sv = {
      ...vars,
      superset_secret_key: cluster('superset_secret_key'),
      superset_admin_password: cluster('superset_admin_password') || vars.superset_admin_password,
      superset_database_password: dbPassword(vars).value(cluster),
      superset_redis_password: vars.superset_redis_password || cluster('redis_password'),
    } as unknown as SupersetVars;
    const target = redisTarget(vars, group);
    if (!target) throw new Error('superset: no Redis (see validate)');
    const p = paths(sv);
    const user = vars.superset_user;
    const lockFile = lockOnController(vars.superset_version);
    const lockText = readFileSync(lockFile, 'utf8');
    const notify = ['superset'];
    const debian = host.facts.osFamily !== 'redhat';
    const first = group(vars.superset_group)[0]?.name === host.name;
    return [
      ops.packages({ names: debian ? ['python3', 'python3-venv', 'curl'] : ['python3.11', 'curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.superset_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.dir({ path: p.root, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: p.lock, content: lockText, owner: 'root', group: 'root', mode: 0o644 }),
      ops.pythonVenv({ venv: p.venv, lock: p.lock, lockText, lockFile, python: vars.superset_python || (debian ? 'python3' : 'python3.11'), notify }),
      ops.file({ path: p.helper, content: STATE_SCRIPT, owner: 'root', group: 'root', mode: 0o644 }),
      ops.dir({ path: vars.superset_data_dir, owner: user, group: user, mode: 0o750 }),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: CONFIG_FILE, content: supersetConfig(sv, target), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: ENV_FILE, content: envFile(sv), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(sv), owner: 'root', group: user, mode: 0o640, secret: true, notify }),
      ...(first
        ? [
            ops.command({ name: `superset: metadata schema at Superset ${vars.superset_version}'s head (superset db upgrade)`, run: dbUpgrade(sv), unless: stateCheck(sv, 'schema') }),
            ops.command({ name: `superset: roles and permissions of Superset ${vars.superset_version} (superset init)`, run: init(sv), unless: stateCheck(sv, 'init') }),
            ops.command({ name: `superset: admin user ${vars.superset_admin_username}`, run: createAdmin(sv), unless: stateCheck(sv, 'user') }),
          ]
        : []),
      ops.unit({ name: 'superset.service', content: unit(sv), notify, resources: serviceLimits(host.vars, 'superset') }),
      ops.service({ name: 'superset', enabled: true, state: 'started' }),
      ops.healthCheck({ name: `Superset on ${host.name} answers /health on ${vars.superset_port}`, command: healthCheck(host.address, vars.superset_port), timeoutS: vars.superset_health_timeout, intervalS: 3 }),
    ];
  },
});

type Vars = { superset_redis_sentinel_group: string; superset_redis_sentinel_port: number; superset_redis_sentinel_master: string; superset_redis_group: string; superset_redis_host: string; superset_redis_port: number };

/** the Sentinels when the inventory has them, else the named server (an inventory host's address), else the redis group's first host */
export function redisTarget(vars: Vars, group: (g: string) => PeerHost[]): RedisTarget | undefined {
  const sentinels = vars.superset_redis_sentinel_group ? group(vars.superset_redis_sentinel_group) : [];
  if (sentinels.length) return { kind: 'sentinel', sentinels: sentinels.map((h) => [h.address, vars.superset_redis_sentinel_port]), master: vars.superset_redis_sentinel_master };
  const servers = group(vars.superset_redis_group);
  const named = vars.superset_redis_host ? (servers.find((h) => h.name === vars.superset_redis_host)?.address ?? vars.superset_redis_host) : servers[0]?.address;
  return named ? { kind: 'server', host: named, port: vars.superset_redis_port } : undefined;
}

/** the group the redis role keeps its password on (its Sentinels', else its servers') */
const redisPasswordGroup = (vars: Vars, group: (g: string) => PeerHost[]) =>
  vars.superset_redis_sentinel_group && group(vars.superset_redis_sentinel_group).length ? vars.superset_redis_sentinel_group : vars.superset_redis_group;

const dbPassword = (vars: { superset_database_password: string; superset_database_uri: string; superset_database_group: string }) =>
  serviceDatabasePassword({ password: vars.superset_database_password, owner: databaseUser(vars.superset_database_uri), group: vars.superset_database_group });
