/**
 * jupyterhub: JupyterHub (datalyptica-minimal-5vm.md VM4, 8000, "Multi-user Jupyter", 8 GB / 2 CPUs, homes under
 * /home/jupyter; phase 8, analytics layer; enterprise: jupyter01). See DOC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ops, readNpmLock, serviceLimits } from '../../src/ops/index.js';
import type { ClusterValueSpec } from '../../src/role/cluster.js';
import { serviceDatabasePassword } from '../../src/role/database-password.js';
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import {
  CONFIG_FILE,
  DB_URL_PATTERN,
  ETC,
  HEX64,
  SECRETS_FILE,
  config,
  dbUrl,
  dbUser,
  generateCookieSecret,
  generateProxyToken,
  healthCheck,
  lockOnController,
  paths,
  proxyLockDir,
  secretsEnv,
  unit,
  type JupyterhubVars,
} from './render.js';

const DOC = `
jupyterhub: JupyterHub on the hosts of group jupyterhub (jupyterhub_group; minimal-5vm: VM4 on 8000).

- Install: JupyterHub, JupyterLab (the users' servers), oauthenticator and jupyterhub-idle-culler from PyPI, pinned:
  roles/jupyterhub/locks/jupyterhub-<version>-py3.11.txt. The controller builds the lock's wheels once (cached) and
  pushes them; the host installs them into <jupyterhub_install_root>/venv with the distribution's python3 and reaches
  no index (ops.pythonVenv). The proxy, configurable-http-proxy, comes from npm the same way: its package-lock.json
  is kept in roles/jupyterhub/locks/configurable-http-proxy-<version>/; the controller runs npm ci once and pushes the
  bundle to <root>/configurable-http-proxy (ops.nodePackage); the host runs it with the distribution's nodejs.
- The hub runs as root (PAM checks passwords; each user's JupyterLab is started as that user with the local-process
  spawner, from the hub's venv), unit jupyterhub.service; it starts the proxy on jupyterhub_bind:jupyterhub_port and
  keeps its own API on 127.0.0.1:jupyterhub_hub_port, the proxy's API on 127.0.0.1:jupyterhub_proxy_api_port.
- Login: PAM (the host's users; jupyterhub_allowed_users / _allowed_groups, created on the host, / _admin_users, or
  jupyterhub_allow_all),
  or Keycloak (jupyterhub_authenticator: keycloak) through OpenID Connect with jupyterhub_keycloak_url and realm, the
  client id and secret (secret); Keycloak's users become local users, created on first login with their home under
  jupyterhub_home_root (the seed: /home/jupyter).
- State: the SQLite database in jupyterhub_data_dir, or PostgreSQL (jupyterhub_db_url postgresql://USER@HOST:PORT/DB,
  the password from jupyterhub_db_password or the owner's generated one on jupyterhub_database_group's cluster). A
  new release migrates the database when it starts (upgrade_db). The cookie secret and the proxy's API token are
  cluster values: generated once, identical on every hub of the group (several hubs behind a load balancer keep
  their users logged in), kept.
- Idle servers are stopped after jupyterhub_cull_idle_timeout seconds (0: never).
- Health: /hub/health answers through the proxy and /hub/api reports the release.
`;

const str = { type: 'string', pattern: '^[A-Za-z0-9_.@-]+$' };

export default defineRole({
  name: 'jupyterhub',
  doc: DOC,
  description: 'JupyterHub from PyPI (pinned lock, controller-built wheelhouse) with configurable-http-proxy from npm (pinned lock, controller-built bundle): PAM or Keycloak login, JupyterLab servers per user, systemd',
  vars: {
    jupyterhub_version: v.str({ default: '5.2.1', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'JupyterHub release (the seed: 5.2.1); roles/jupyterhub/locks must hold its lock' }),
    jupyterhub_proxy_version: v.str({ default: '4.6.3', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'configurable-http-proxy release; roles/jupyterhub/locks/configurable-http-proxy-<version> must hold its npm lock' }),
    jupyterhub_group: v.str({ default: 'jupyterhub', doc: 'inventory group of the hubs (minimal-5vm: VM4); they share the cookie secret' }),
    jupyterhub_install_root: v.str({ default: '/opt/jupyterhub', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'venv at ROOT/venv, the proxy at ROOT/configurable-http-proxy, the lock beside them' }),
    jupyterhub_data_dir: v.str({ default: '/var/lib/jupyterhub', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'the hub\'s state: SQLite database, cookie secret (root 0700)' }),
    jupyterhub_python: v.str({ default: '', emptyAllowed: true, pattern: '^[A-Za-z0-9_./-]*$', doc: "interpreter creating the venv: a Python 3.11 (the lock's wheels are cp311); empty: python3 on Debian 12, python3.11 on RHEL" }),
    jupyterhub_bind: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F.:]+$', doc: 'address the proxy (the public side) listens on' }),
    jupyterhub_port: v.port({ default: 8000, doc: 'public port, the proxy (the seed: 8000)' }),
    jupyterhub_hub_port: v.port({ default: 8081, doc: "the hub's own API, on 127.0.0.1 (JupyterHub's default 8081: minimal-5vm's VM4 has Flink's 8081 and moves it)" }),
    jupyterhub_proxy_api_port: v.port({ default: 8001, doc: "the proxy's API, on 127.0.0.1" }),
    jupyterhub_base_url: v.str({ default: '/', pattern: '^/([A-Za-z0-9_.-]+/)*$', doc: 'URL prefix of the hub (starts and ends with /)' }),
    jupyterhub_authenticator: v.str({ default: 'pam', enum: ['pam', 'keycloak'], doc: "pam: the host's users; keycloak: OpenID Connect against jupyterhub_keycloak_url" }),
    jupyterhub_admin_users: v.list<string>(str, { default: [], doc: 'users with admin rights in the hub (they may log in)' }),
    jupyterhub_allowed_users: v.list<string>(str, { default: [], doc: 'users who may log in' }),
    jupyterhub_allowed_groups: v.list<string>(str, { default: [], doc: "groups whose members may log in (pam: the host's groups; keycloak: the token's groups claim)" }),
    jupyterhub_allow_all: v.bool({ default: false, doc: 'every user the authenticator accepts may log in (pam: every user of the host with a password)' }),
    jupyterhub_home_root: v.str({ default: '/home/jupyter', pattern: '^/[A-Za-z0-9_./-]*[A-Za-z0-9_-]$', doc: 'where users created on first login (keycloak) get their home (the seed: /home/jupyter, 500 GB)' }),
    jupyterhub_keycloak_url: v.str({ default: '', emptyAllowed: true, pattern: '^(|https?://[^\\s/]+(/[^\\s]*)?)$', doc: "Keycloak's base URL, e.g. http://{{ keepalived_vip }}:8080 (with jupyterhub_authenticator: keycloak)" }),
    jupyterhub_keycloak_realm: v.str({ default: 'datalyptica', pattern: '^[A-Za-z0-9_.-]+$', doc: 'Keycloak realm' }),
    jupyterhub_oauth_client_id: v.str({ default: 'jupyterhub', pattern: '^[A-Za-z0-9_.-]+$', doc: "the hub's OpenID Connect client in the realm" }),
    jupyterhub_oauth_client_secret: v.str({ default: '', emptyAllowed: true, secret: true, doc: "that client's secret (secret): only in secrets.env" }),
    jupyterhub_oauth_callback_url: v.str({ default: '', emptyAllowed: true, pattern: '^(|https?://[^\\s]+/hub/oauth_callback)$', doc: 'the URL Keycloak sends users back to, as users reach the hub (e.g. http://jupyter.datalyptica.local:8000/hub/oauth_callback); empty: http://<host address>:<port><base_url>hub/oauth_callback' }),
    jupyterhub_admin_groups: v.list<string>(str, { default: [], doc: "keycloak: groups of the token's groups claim whose members are admins" }),
    jupyterhub_db_url: v.str({ default: '', emptyAllowed: true, pattern: DB_URL_PATTERN, doc: 'hub database: empty for SQLite in the data directory, sqlite:////PATH, or postgresql://USER@HOST:PORT/DATABASE without the password' }),
    jupyterhub_db_password: v.str({ default: '', emptyAllowed: true, secret: true, doc: "PostgreSQL hub database: the user's password (secret), only in secrets.env as PGPASSWORD; empty: the one generated for the owner on jupyterhub_database_group's cluster" }),
    jupyterhub_database_group: v.str({ default: 'patroni', emptyAllowed: true, doc: 'PostgreSQL hub database: the inventory group of the cluster whose generated owner password the role reads when jupyterhub_db_password is empty; empty: none' }),
    jupyterhub_default_url: v.str({ default: '/lab', pattern: '^/[A-Za-z0-9_./-]*$', doc: "where a user's server opens (JupyterLab)" }),
    jupyterhub_spawner_environment: v.map<string>({ type: 'string' }, { default: {}, doc: "environment of every user's server, e.g. SPARK_MASTER" }),
    jupyterhub_spawner_start_timeout: v.int({ default: 120, minimum: 10, doc: "seconds a user's server may take to start and answer" }),
    jupyterhub_cull_idle_timeout: v.int({ default: 3600, minimum: 0, doc: 'seconds after which an idle server is stopped (jupyterhub-idle-culler); 0: never' }),
    jupyterhub_cookie_secret: v.str({ default: '', emptyAllowed: true, secret: true, pattern: '^([0-9a-f]{64})?$', doc: 'the cookie secret (secret; 64 hex digits); empty: generated once and kept on the hubs (cluster value jupyterhub_cookie_secret). Changing it logs every user out' }),
    jupyterhub_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds the hub may take to answer /hub/health after a (re)start' }),
  },

  validate: ({ vars, host, group }) => {
    const out: string[] = [];
    if (!group(vars.jupyterhub_group).some((p) => p.name === host.name)) out.push(`host ${host.name} runs jupyterhub but is not in group ${vars.jupyterhub_group}`);
    if (!existsSync(lockOnController(vars.jupyterhub_version))) out.push(`jupyterhub_version ${vars.jupyterhub_version}: no lock ${lockOnController(vars.jupyterhub_version)} (resolve one as its header says)`);
    const proxyLock = proxyLockDir(vars.jupyterhub_proxy_version);
    if (!existsSync(`${proxyLock}/package-lock.json`)) out.push(`jupyterhub_proxy_version ${vars.jupyterhub_proxy_version}: no npm lock ${proxyLock}/package-lock.json (npm install --package-lock-only there)`);
    const ports = [vars.jupyterhub_port, vars.jupyterhub_hub_port, vars.jupyterhub_proxy_api_port];
    if (new Set(ports).size !== ports.length) out.push(`jupyterhub_port ${vars.jupyterhub_port}, jupyterhub_hub_port ${vars.jupyterhub_hub_port} and jupyterhub_proxy_api_port ${vars.jupyterhub_proxy_api_port} must differ`);
    if (!vars.jupyterhub_allow_all && !vars.jupyterhub_allowed_users.length && !vars.jupyterhub_allowed_groups.length && !vars.jupyterhub_admin_users.length && !vars.jupyterhub_admin_groups.length) {
      out.push('nobody may log in to JupyterHub: set jupyterhub_allowed_users, jupyterhub_allowed_groups or jupyterhub_admin_users, or jupyterhub_allow_all: true');
    }
    if (vars.jupyterhub_authenticator === 'keycloak') {
      if (!vars.jupyterhub_keycloak_url) out.push('jupyterhub_authenticator is keycloak: set jupyterhub_keycloak_url (e.g. http://{{ keepalived_vip }}:8080)');
      if (!vars.jupyterhub_oauth_client_secret) out.push("jupyterhub_authenticator is keycloak: set jupyterhub_oauth_client_secret (the client's secret, from a secrets file)");
    } else if (vars.jupyterhub_admin_groups.length) {
      out.push('jupyterhub_admin_groups is for the keycloak authenticator (PAM: list the admins in jupyterhub_admin_users)');
    }
    const owner = dbUser(vars.jupyterhub_db_url);
    if (owner && vars.jupyterhub_db_password === '' && (vars.jupyterhub_database_group === '' || !group(vars.jupyterhub_database_group).length)) {
      out.push(`jupyterhub_db_url is PostgreSQL but jupyterhub_db_password is empty and jupyterhub_database_group ${JSON.stringify(vars.jupyterhub_database_group)} names no group of the inventory: give the password (from a secrets file) or the PostgreSQL cluster's group`);
    }
    return out;
  },

  declares: ({ vars }) => ({
    ports: [
      { port: vars.jupyterhub_port, variable: 'jupyterhub_port', description: 'JupyterHub (its proxy)' },
      { port: vars.jupyterhub_hub_port, variable: 'jupyterhub_hub_port', description: "JupyterHub's hub API (127.0.0.1)" },
      { port: vars.jupyterhub_proxy_api_port, variable: 'jupyterhub_proxy_api_port', description: "configurable-http-proxy's API (127.0.0.1)" },
    ],
    memoryMb: 8192, // the seed's 8 GB
    cpus: 2,
    serves: [vars.jupyterhub_group],
    dataDirs: [vars.jupyterhub_data_dir, vars.jupyterhub_home_root],
  }),

  clusterValues: ({ vars }) => {
    const p = paths(vars);
    const out: ClusterValueSpec[] = [
      {
        name: 'jupyterhub_cookie_secret',
        doc: "JupyterHub's cookie secret (signs the users' login cookies; the same on every hub)",
        group: vars.jupyterhub_group,
        secret: true,
        override: 'jupyterhub_cookie_secret',
        pattern: HEX64,
        generate: generateCookieSecret,
        read: `head -n 1 ${p.cookieSecret}`,
      },
      {
        name: 'jupyterhub_proxy_auth_token',
        doc: "the API token between JupyterHub and configurable-http-proxy",
        group: vars.jupyterhub_group,
        secret: true,
        pattern: HEX64,
        generate: generateProxyToken,
        // secrets.env quotes the value (environmentFileValue): the token is what is between the quotes
        read: `sed -n 's/^CONFIGPROXY_AUTH_TOKEN="\\([0-9a-f]*\\)"$/\\1/p' ${SECRETS_FILE} 2>/dev/null`,
      },
      ...dbPassword(vars).declare,
    ];
    return out;
  },

  rollout: ({ vars, host }) => ({
    services: ['jupyterhub'],
    health: { command: healthCheck(host.address, vars.jupyterhub_port, vars.jupyterhub_base_url, vars.jupyterhub_version), description: `JupyterHub on ${host.name} answers /hub/health`, timeoutSec: vars.jupyterhub_health_timeout, intervalSec: 2 },
  }),

  operations: ({ vars, host, cluster }) => {
    const hv: JupyterhubVars = {
      ...(vars as unknown as JupyterhubVars),
      jupyterhub_oauth_callback_url: vars.jupyterhub_oauth_callback_url || `http://${host.address.includes(':') ? `[${host.address}]` : host.address}:${vars.jupyterhub_port}${vars.jupyterhub_base_url}hub/oauth_callback`,
      jupyterhub_db_password: dbPassword(vars).value(cluster),
      cookie_secret: cluster('jupyterhub_cookie_secret'),
      proxy_auth_token: cluster('jupyterhub_proxy_auth_token'),
    };
    const p = paths(hv);
    const lockFile = lockOnController(vars.jupyterhub_version);
    const lockText = readFileSync(lockFile, 'utf8');
    const proxyLock = proxyLockDir(vars.jupyterhub_proxy_version);
    const npmLock = readNpmLock(proxyLock);
    const notify = ['jupyterhub'];
    const debian = host.facts.osFamily !== 'redhat';
    return [
      ops.packages({ names: debian ? ['python3', 'python3-venv', 'nodejs', 'curl'] : ['python3.11', 'nodejs', 'curl'], osFamily: host.facts.osFamily }),
      ops.dir({ path: p.root, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: p.lock, content: lockText, owner: 'root', group: 'root', mode: 0o644 }),
      ops.pythonVenv({ venv: p.venv, lock: p.lock, lockText, lockFile, python: vars.jupyterhub_python || (debian ? 'python3' : 'python3.11'), notify }),
      ops.nodePackage({ dest: p.proxy, lock: npmLock, lockDir: proxyLock, label: `configurable-http-proxy ${vars.jupyterhub_proxy_version}`, notify }),
      // PAM: the groups whose members may log in exist on the host (the operator adds the users to them)
      ...(vars.jupyterhub_authenticator === 'pam' ? vars.jupyterhub_allowed_groups.map((g) => ops.group({ name: g })) : []),
      ops.dir({ path: vars.jupyterhub_data_dir, owner: 'root', group: 'root', mode: 0o700 }),
      ops.dir({ path: vars.jupyterhub_home_root, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: p.cookieSecret, content: `${hv.cookie_secret}\n`, owner: 'root', group: 'root', mode: 0o600, secret: true, notify }),
      ops.dir({ path: ETC, owner: 'root', group: 'root', mode: 0o755 }),
      ops.file({ path: CONFIG_FILE, content: config(hv), owner: 'root', group: 'root', mode: 0o644, notify }),
      ops.file({ path: SECRETS_FILE, content: secretsEnv(hv), owner: 'root', group: 'root', mode: 0o600, secret: true, notify }),
      ops.unit({ name: 'jupyterhub.service', content: unit(hv), notify, resources: serviceLimits(host.vars, 'jupyterhub') }),
      ops.service({ name: 'jupyterhub', enabled: true, state: 'started' }),
      ops.healthCheck({
        name: `JupyterHub on ${host.name} answers /hub/health and reports ${vars.jupyterhub_version} on ${vars.jupyterhub_port}`,
        command: healthCheck(host.address, vars.jupyterhub_port, vars.jupyterhub_base_url, vars.jupyterhub_version),
        timeoutS: vars.jupyterhub_health_timeout,
        intervalS: 2,
      }),
    ];
  },
});

const dbPassword = (vars: { jupyterhub_db_password: string; jupyterhub_db_url: string; jupyterhub_database_group: string; jupyterhub_data_dir: string }) => {
  const owner = dbUser(dbUrl(vars));
  return owner ? serviceDatabasePassword({ password: vars.jupyterhub_db_password, owner, group: vars.jupyterhub_database_group }) : { declare: [], value: () => '' };
};
