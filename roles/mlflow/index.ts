/**
 * mlflow: the MLflow tracking server (datalyptica-minimal-5vm.md VM5, 5001, "ML tracking", 4 GB / 2 CPUs; phase 8,
 * analytics layer) with its backend store on PostgreSQL and its artifacts on S3 or a local path. See DOC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ops, serviceLimits } from '../../src/ops/index.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  BACKEND_URI_PATTERN,
  ENV_FILE,
  ETC,
  SCHEMA_SCRIPT,
  SECRETS_FILE,
  backendUser,
  envFile,
  healthCheck,
  lockOnController,
  paths,
  schemaCommand,
  secretsEnv,
  unit,
  type MlflowVars,
} from './render.js';

const DOC = `
mlflow: the MLflow tracking server on the hosts of group mlflow (mlflow_group; the seeds: one, VM5 on 5001).

- Install: MLflow from PyPI, pinned: roles/mlflow/locks/mlflow-<version>-py3.11.txt (every package name==version with
  the sha256 of the file on PyPI, resolved with pip; mlflow + psycopg2-binary + boto3). The controller builds the
  lock's wheels once (cached) and pushes them as one verified tar; the host installs them into
  <mlflow_install_root>/venv with the distribution's python3 (3.11 on Debian 12) and reaches no index
  (ops.pythonVenv). The venv's pip freeze is the fact: a rerun installs nothing, a new lock only what differs.
- Backend store: PostgreSQL, mlflow_backend_store_uri (postgresql://USER@HOST:PORT/DATABASE, no password in it); the
  password is libpq's PGPASSWORD in /etc/mlflow/secrets.env (0640 root:mlflow), from mlflow_backend_store_password or,
  when that is empty, the owner's password generated once on mlflow_database_group's cluster. The database and its
  owner are the PostgreSQL role's (postgresql_instances / patroni databases).
- Schema: before the server (re)starts, the helper <root>/mlflow-schema.py compares the database's alembic revision with
  the installed MLflow's head: at head, nothing runs; empty, MLflow's tables are created (stamped at head, as MLflow's
  server does on first use); behind, it is upgraded as \`mlflow db upgrade\` does. Only the first host of mlflow_group
  migrates.
- Artifacts: mlflow_artifacts_destination, proxied by the server (--serve-artifacts: clients log artifacts through
  mlflow-artifacts:/ and need no storage credentials): a local path (created, owned by the service user; the default)
  or s3://BUCKET/PATH with mlflow_s3_endpoint_url (MinIO or the site's object storage), the region and the keys (the
  secret key only in secrets.env).
- Server: mlflow server with mlflow_workers gunicorn workers on mlflow_bind:mlflow_port, as the system user mlflow, unit
  mlflow.service; the venv, the env files and the unit restart it. Health: /health answers OK and /version the release.
`;

export default defineRole({
  name: 'mlflow',
  doc: DOC,
  description: 'MLflow tracking server from PyPI (pinned lock, controller-built wheelhouse): PostgreSQL backend store, artifacts on S3 or a local path, gunicorn workers, systemd',
  vars: {
    mlflow_version: v.str({ default: '2.19.0', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'MLflow release (the seeds: 2.19.0); roles/mlflow/locks must hold its lock' }),
    mlflow_group: v.str({ default: 'mlflow', doc: 'inventory group of the tracking servers (minimal-5vm: VM5); its first host migrates the schema' }),
    mlflow_install_root: v.str({ default: '/opt/mlflow', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'venv at ROOT/venv, the lock and the schema helper beside it' }),
    mlflow_user: v.str({ default: 'mlflow', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (and group)' }),
    mlflow_data_dir: v.str({ default: '/var/lib/mlflow', pattern: '^/[A-Za-z0-9_./-]*$', doc: 'home and working directory of the service' }),
    mlflow_python: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_./-]*$', doc: "interpreter creating the venv: a Python 3.11 (the lock's wheels are cp311); empty: the distribution's, python3 on Debian 12, python3.11 (installed) on RHEL" }),
    mlflow_bind: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F.:]+$', doc: 'address the server listens on' }),
    mlflow_port: v.port({ default: 5001, doc: 'tracking server port (the seed: 5001)' }),
    mlflow_workers: v.int({ default: 4, minimum: 1, maximum: 64, doc: 'gunicorn workers (MLflow\'s default 4; the seed gives the server 2 CPUs)' }),
    mlflow_gunicorn_timeout: v.int({ default: 120, minimum: 10, doc: 'gunicorn worker timeout, seconds (large artifact uploads go through the server)' }),
    mlflow_backend_store_uri: v.str({ default: 'postgresql://mlflow@pg-vip:5432/mlflow', pattern: BACKEND_URI_PATTERN, doc: 'backend store: postgresql://USER@HOST:PORT/DATABASE, without the password (the seeds: the Patroni cluster behind HAProxy)' }),
    mlflow_backend_store_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "the database user's password (secret): only in /etc/mlflow/secrets.env as PGPASSWORD; empty: the one generated for the owner on mlflow_database_group's cluster" }),
    mlflow_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: 'inventory group of the PostgreSQL cluster whose generated owner password the role reads when mlflow_backend_store_password is empty; empty: none' }),
    mlflow_artifacts_destination: v.str({ default: '/var/lib/mlflow/artifacts', pattern: '^(/[A-Za-z0-9_./-]*|s3://[a-z0-9][a-z0-9.-]+[a-z0-9](/[A-Za-z0-9_./-]*)?)$', doc: 'where the server stores artifacts: a local path, or s3://BUCKET/PATH (e.g. s3://datalyptica-mlflow/artifacts on MinIO)' }),
    mlflow_s3_endpoint_url: v.str({ default: '', pattern: '^(|https?://[^\\s]+)$', emptyAllowed: true, doc: "S3 endpoint (MinIO or the site's object storage, e.g. http://minio:9000); empty: AWS" }),
    mlflow_s3_region: v.str({ default: 'us-east-1', pattern: '^[a-z0-9-]+$', doc: 'S3 region (AWS_DEFAULT_REGION)' }),
    mlflow_s3_ignore_tls: v.bool({ default: false, doc: 'MLFLOW_S3_IGNORE_TLS: do not verify the endpoint\'s certificate' }),
    mlflow_s3_access_key_id: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'S3 access key id (secret); empty with the secret key: the host\'s own credentials (instance profile)' }),
    mlflow_s3_secret_access_key: v.str({ default: '', emptyAllowed: true, secret: true, doc: 'S3 secret access key (secret): only in secrets.env' }),
    mlflow_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds the server may take to answer /health after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const out: string[] = [];
    if (!group(vars.mlflow_group).some((p) => p.name === host.name)) out.push(`host ${host.name} runs mlflow but is not in group ${vars.mlflow_group}`);
    if (!existsSync(lockOnController(vars.mlflow_version))) out.push(`mlflow_version ${vars.mlflow_version}: no lock ${lockOnController(vars.mlflow_version)} (resolve one with pip as README's "Python services" says)`);
    if ((vars.mlflow_s3_access_key_id === '') !== (vars.mlflow_s3_secret_access_key === '')) out.push('mlflow_s3_access_key_id and mlflow_s3_secret_access_key go together: give both or neither');
    if (vars.mlflow_backend_store_password === '' && vars.mlflow_database_group !== '' && !group(vars.mlflow_database_group).length) {
      out.push(`mlflow_backend_store_password is empty and mlflow_database_group ${JSON.stringify(vars.mlflow_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group, or set mlflow_database_group to "" for a database without one`);
    }
    return out;
  },

  declares: ({ vars }) => ({
    ports: [{ port: vars.mlflow_port, variable: 'mlflow_port', description: 'MLflow tracking server' }],
    memoryMb: 4096, // the seed's 4 GB
    cpus: 2,
    serves: [vars.mlflow_group],
    dataDirs: vars.mlflow_artifacts_destination.startsWith('/') ? [vars.mlflow_artifacts_destination] : [],
  }),

  clusterValues: ({ vars }) => dbPassword(vars).declare,

  rollout: ({ vars, host }) => ({
    services: ['mlflow'],
    health: { command: healthCheck(host.address, vars.mlflow_port, vars.mlflow_version), description: `MLflow on ${host.name} answers /health`, timeoutSec: vars.mlflow_health_timeout, intervalSec: 2 },
  }),

  operations: ({ vars, host, group, cluster }) => {
    const mv = { ...vars, mlflow_backend_store_password: dbPassword(vars).value(cluster) } as unknown as MlflowVars;
    const p = paths(mv);
    const user = vars.mlflow_user;
    const lockFile = lockOnController(vars.mlflow_version);
    const lockText = readFileSync(lockFile, 'utf8');
    const notify = ['mlflow'];
    const debian = host.facts.osFamily !== 'redhat';
    const first = group(vars.mlflow_group)[0]?.name === host.name;
    return [
      ops.packages({ names: debian ? ['python3', 'python3-venv', 'curl'] : ['python3.11', 'curl'], osFamily: host.facts.osFamily }),
      ops.group({ name: user, system: true }),
      ops.user({ name: user, group: user, system: true, home: vars.mlflow_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.dir({ path: p.root, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: p.lock, content: lockText, owner: 'root', group: 'root', mode: 0o644 }),
      ops.pythonVenv({ venv: p.venv, lock: p.lock, lockText, lockFile, python: vars.mlflow_python || (debian ? 'python3' : 'python3.11'), notify }),
      ops.file({ path: p.schemaScript, content: SCHEMA_SCRIPT, owner: 'root', group: 'root', mode: 0o644 }),
      ops.dir({ path: vars.mlflow_data_dir, owner: user, group: user, mode: 0o750 }),
      ...(p.artifactsLocal ? [ops.dir({ path: vars.mlflow_artifacts_destination, owner: user, group: user, mode: 0o750 })] : []),
      ops.dir({ path: ETC, owner: 'root', group: user, mode: 0o750 }),
      ops.file({ path: ENV_FILE, content: envFile(mv), owner: 'root', group: user, mode: 0o640, notify }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(mv), owner: 'root', group: user, mode: 0o640, secret: true, notify }),
      ...(first
        ? [ops.command({
            name: `mlflow: backend store schema at MLflow ${vars.mlflow_version}'s head (${vars.mlflow_backend_store_uri})`,
            run: schemaCommand(mv, 'migrate'),
            unless: schemaCommand(mv, 'status'),
          })]
        : []),
      ops.unit({ name: 'mlflow.service', content: unit(mv), notify, resources: serviceLimits(host.vars, 'mlflow') }),
      ops.service({ name: 'mlflow', enabled: true, state: 'started' }),
      ops.healthCheck({
        name: `MLflow on ${host.name} answers /health and /version ${vars.mlflow_version} on ${vars.mlflow_port}`,
        command: healthCheck(host.address, vars.mlflow_port, vars.mlflow_version),
        timeoutS: vars.mlflow_health_timeout,
        intervalS: 2,
      }),
    ];
  },
});

const dbPassword = (vars: { mlflow_backend_store_password: string; mlflow_backend_store_uri: string; mlflow_database_group: string }) =>
  serviceDatabasePassword({ password: vars.mlflow_backend_store_password, owner: backendUser(vars.mlflow_backend_store_uri), group: vars.mlflow_database_group });
