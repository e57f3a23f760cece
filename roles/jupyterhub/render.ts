/**
 * JupyterHub's files, typed: the locks (the hub's Python packages, configurable-http-proxy's npm packages), the
 * hub's jupyterhub_config.py (PAM or Keycloak through OAuth, the local-process spawner, the proxy it starts),
 * the secrets EnvironmentFile, the cookie secret, the systemd unit, and the health check.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { projectRoot } from '../../src/core/project.js';
import { pythonLocks } from '../../src/role/python-locks.js';
import { environmentFileValue, q } from '../../src/ops/index.js';

export const ETC = '/etc/jupyterhub';
export const CONFIG_FILE = `${ETC}/jupyterhub_config.py`;
export const SECRETS_FILE = `${ETC}/secrets.env`;

export type Authenticator = 'pam' | 'keycloak';

export interface JupyterhubVars {
  jupyterhub_version: string;
  jupyterhub_proxy_version: string;
  jupyterhub_install_root: string;
  jupyterhub_data_dir: string;
  jupyterhub_bind: string;
  jupyterhub_port: number;
  jupyterhub_hub_port: number;
  jupyterhub_proxy_api_port: number;
  jupyterhub_base_url: string;
  jupyterhub_authenticator: Authenticator;
  jupyterhub_admin_users: string[];
  jupyterhub_allowed_users: string[];
  jupyterhub_allowed_groups: string[];
  jupyterhub_allow_all: boolean;
  jupyterhub_home_root: string;
  jupyterhub_keycloak_url: string;
  jupyterhub_keycloak_realm: string;
  jupyterhub_oauth_client_id: string;
  jupyterhub_oauth_client_secret: string;
  jupyterhub_oauth_callback_url: string;
  jupyterhub_admin_groups: string[];
  jupyterhub_db_url: string;
  jupyterhub_db_password: string;
  jupyterhub_default_url: string;
  jupyterhub_spawner_environment: Record<string, string>;
  jupyterhub_spawner_start_timeout: number;
  jupyterhub_cull_idle_timeout: number;
  /** the cluster values, resolved */
  cookie_secret: string;
  proxy_auth_token: string;
}

const locks = pythonLocks('jupyterhub');
/** the lock's file name for a release */
export const lockName = (version: string) => locks.fileName(version);
/** the lock on the controller (in the repository) */
export const lockOnController = (version: string) => locks.onController(version);
/** configurable-http-proxy's npm lock directory on the controller (package.json + package-lock.json) */
export const proxyLockDir = (version: string) => join(projectRoot, 'roles', 'jupyterhub', 'locks', `configurable-http-proxy-${version}`);

export interface Paths {
  root: string;
  venv: string;
  lock: string;
  /** configurable-http-proxy's install directory */
  proxy: string;
  /** its entry point, run by the distribution's node */
  proxyBin: string;
  cookieSecret: string;
}

export function paths(v: Pick<JupyterhubVars, 'jupyterhub_install_root' | 'jupyterhub_version' | 'jupyterhub_data_dir'>): Paths {
  const root = v.jupyterhub_install_root;
  const proxy = `${root}/configurable-http-proxy`;
  return {
    root,
    venv: `${root}/venv`,
    lock: `${root}/${lockName(v.jupyterhub_version)}`,
    proxy,
    proxyBin: `${proxy}/node_modules/configurable-http-proxy/bin/configurable-http-proxy`,
    cookieSecret: `${v.jupyterhub_data_dir}/jupyterhub_cookie_secret`,
  };
}

/** JupyterHub reads its cookie secret file as hex: 32 random bytes */
export const generateCookieSecret = () => randomBytes(32).toString('hex');
/** the proxy's API token (CONFIGPROXY_AUTH_TOKEN): 32 random bytes, hex */
export const generateProxyToken = () => randomBytes(32).toString('hex');
export const HEX64 = /^[0-9a-f]{64}$/;

// postgresql://user@host[:port]/database: the password never in the URL (PGPASSWORD, from secrets.env)
export const DB_URL_PATTERN = '^(|sqlite:////[A-Za-z0-9_./-]+|postgresql(\\+psycopg2)?://[A-Za-z0-9_.-]+@[A-Za-z0-9_.:\\[\\]-]+(:[0-9]+)?/[A-Za-z0-9_.-]+)$';

/** the hub database's URL: the variable, or the SQLite file in the data directory */
export function dbUrl(v: Pick<JupyterhubVars, 'jupyterhub_db_url' | 'jupyterhub_data_dir'>): string {
  return v.jupyterhub_db_url || `sqlite:///${v.jupyterhub_data_dir}/jupyterhub.sqlite`;
}

/** the database user of a PostgreSQL hub database (the owner whose password PGPASSWORD carries); undefined for SQLite */
export function dbUser(url: string): string | undefined {
  const m = /^postgresql(\+psycopg2)?:\/\/([^@/:]+)@/.exec(url);
  return m ? m[2] : undefined;
}

/** the Keycloak realm's OpenID Connect endpoints */
export function keycloakEndpoints(url: string, realm: string): { authorize: string; token: string; userdata: string; issuer: string } {
  const issuer = `${url.replace(/\/+$/, '')}/realms/${encodeURIComponent(realm)}`;
  const oidc = `${issuer}/protocol/openid-connect`;
  return { issuer, authorize: `${oidc}/auth`, token: `${oidc}/token`, userdata: `${oidc}/userinfo` };
}

/** a Python literal: JSON's strings, lists and objects are Python's (true/false/null are not used here) */
const py = (x: string | string[] | Record<string, string>) => JSON.stringify(x);
const pySet = (xs: string[]) => (xs.length ? `{${[...xs].sort().map((x) => py(x)).join(', ')}}` : 'set()');
const host = (a: string) => (a.includes(':') ? `[${a}]` : a);

/** jupyterhub_config.py: what the hub binds, where its state is, who may log in, what it spawns. */
export function config(v: JupyterhubVars): string {
  const p = paths(v);
  const base = v.jupyterhub_base_url;
  const out = [
    '# Managed by orch (role jupyterhub)',
    'import os',
    '',
    'c = get_config()  # noqa: F821',
    '',
    '# the public side: configurable-http-proxy, started and configured by the hub',
    `c.JupyterHub.bind_url = ${py(`http://${host(v.jupyterhub_bind)}:${v.jupyterhub_port}${base}`)}`,
    `c.JupyterHub.hub_bind_url = ${py(`http://127.0.0.1:${v.jupyterhub_hub_port}`)}`,
    `c.ConfigurableHTTPProxy.api_url = ${py(`http://127.0.0.1:${v.jupyterhub_proxy_api_port}`)}`,
    `c.ConfigurableHTTPProxy.command = ${py(['/usr/bin/node', p.proxyBin])}`,
    '# the proxy API token comes from the environment (CONFIGPROXY_AUTH_TOKEN, secrets.env)',
    'c.ConfigurableHTTPProxy.auth_token = os.environ["CONFIGPROXY_AUTH_TOKEN"]',
    '',
    '# state',
    `c.JupyterHub.cookie_secret_file = ${py(p.cookieSecret)}`,
    `c.JupyterHub.db_url = ${py(dbUrl(v))}`,
    '# a new JupyterHub release migrates its database when it starts (SQLite: backed up beside it first)',
    'c.JupyterHub.upgrade_db = True',
    `c.JupyterHub.pid_file = ${py(`${v.jupyterhub_data_dir}/jupyterhub.pid`)}`,
    '',
    '# who may log in',
  ];
  if (v.jupyterhub_authenticator === 'pam') {
    out.push('# PAM: the host\'s users and passwords (the hub runs as root to check them and to start servers as the user)');
    out.push('c.JupyterHub.authenticator_class = "pam"');
  } else {
    const kc = keycloakEndpoints(v.jupyterhub_keycloak_url, v.jupyterhub_keycloak_realm);
    out.push(`# Keycloak (realm ${v.jupyterhub_keycloak_realm}) through OpenID Connect; its users become local users of this host`);
    // LocalAuthenticator.check_allowed looks allowed_groups up among the host's UNIX groups (pwd.getpwnam: KeyError
    // for a Keycloak user not created yet); here they are Keycloak's groups, which OAuthenticator's check handles
    out.push('from oauthenticator.generic import LocalGenericOAuthenticator  # noqa: E402');
    out.push('');
    out.push('');
    out.push('class KeycloakAuthenticator(LocalGenericOAuthenticator):');
    out.push('    """allowed_groups are Keycloak\'s groups (the token\'s groups claim), not the host\'s UNIX groups"""');
    out.push('');
    out.push('    def check_allowed_groups(self, username, authentication=None):');
    out.push('        return False');
    out.push('');
    out.push('');
    out.push('c.JupyterHub.authenticator_class = KeycloakAuthenticator');
    out.push('c.GenericOAuthenticator.login_service = "Keycloak"');
    out.push(`c.GenericOAuthenticator.client_id = ${py(v.jupyterhub_oauth_client_id)}`);
    out.push('c.GenericOAuthenticator.client_secret = os.environ["OAUTH_CLIENT_SECRET"]');
    out.push(`c.GenericOAuthenticator.oauth_callback_url = ${py(v.jupyterhub_oauth_callback_url)}`);
    out.push(`c.GenericOAuthenticator.authorize_url = ${py(kc.authorize)}`);
    out.push(`c.GenericOAuthenticator.token_url = ${py(kc.token)}`);
    out.push(`c.GenericOAuthenticator.userdata_url = ${py(kc.userdata)}`);
    out.push('c.GenericOAuthenticator.scope = ["openid", "profile", "email"]');
    out.push('c.GenericOAuthenticator.username_claim = "preferred_username"');
    if (v.jupyterhub_admin_groups.length || v.jupyterhub_allowed_groups.length) {
      // oauthenticator 17: allowed_groups and admin_groups refuse to load without manage_groups (ValueError)
      out.push('# Keycloak\'s "groups" claim in its userinfo (a group membership mapper on the client) for allowed_groups and admin_groups');
      out.push('c.GenericOAuthenticator.manage_groups = True');
      out.push('c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"');
    }
    if (v.jupyterhub_admin_groups.length) out.push(`c.GenericOAuthenticator.admin_groups = ${pySet(v.jupyterhub_admin_groups)}`);
    out.push('c.LocalGenericOAuthenticator.create_system_users = True');
    out.push(`c.LocalGenericOAuthenticator.add_user_cmd = ${py(['useradd', '--create-home', '--base-dir', v.jupyterhub_home_root, '--shell', '/bin/bash'])}`);
  }
  out.push(`c.Authenticator.admin_users = ${pySet(v.jupyterhub_admin_users)}`);
  out.push(`c.Authenticator.allowed_users = ${pySet(v.jupyterhub_allowed_users)}`);
  if (v.jupyterhub_allowed_groups.length) {
    out.push(`${v.jupyterhub_authenticator === 'pam' ? 'c.LocalAuthenticator' : 'c.GenericOAuthenticator'}.allowed_groups = ${pySet(v.jupyterhub_allowed_groups)}`);
  }
  out.push(`c.Authenticator.allow_all = ${v.jupyterhub_allow_all ? 'True' : 'False'}`);
  out.push('');
  out.push('# the single-user servers: JupyterLab from the hub\'s venv, started as the user on this host');
  out.push(`c.Spawner.cmd = ${py([`${p.venv}/bin/jupyterhub-singleuser`])}`);
  out.push(`c.Spawner.default_url = ${py(v.jupyterhub_default_url)}`);
  out.push(`c.Spawner.start_timeout = ${v.jupyterhub_spawner_start_timeout}`);
  out.push(`c.Spawner.http_timeout = ${v.jupyterhub_spawner_start_timeout}`);
  const env = Object.keys(v.jupyterhub_spawner_environment).sort();
  if (env.length) out.push(`c.Spawner.environment = ${py(Object.fromEntries(env.map((k) => [k, v.jupyterhub_spawner_environment[k]])))}`);
  if (v.jupyterhub_cull_idle_timeout > 0) {
    out.push('');
    out.push(`# idle servers stopped after ${v.jupyterhub_cull_idle_timeout} s (jupyterhub-idle-culler, a hub-managed service)`);
    out.push('c.JupyterHub.load_roles = [{"name": "idle-culler", "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"], "services": ["idle-culler"]}]');
    out.push(`c.JupyterHub.services = [{"name": "idle-culler", "command": ${py([`${p.venv}/bin/python`, '-m', 'jupyterhub_idle_culler', `--timeout=${v.jupyterhub_cull_idle_timeout}`])}}]`);
  }
  return `${out.join('\n')}\n`;
}

/** The secrets of jupyterhub.service: the proxy's API token, the OAuth client secret, the hub database's password. */
export function secretsEnv(v: JupyterhubVars): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a secret holds a newline`)}`;
  const out = ['# Managed by orch (role jupyterhub): secrets of jupyterhub.service (root 0600)'];
  out.push(line('CONFIGPROXY_AUTH_TOKEN', v.proxy_auth_token));
  if (v.jupyterhub_authenticator === 'keycloak') out.push(line('OAUTH_CLIENT_SECRET', v.jupyterhub_oauth_client_secret));
  if (dbUser(dbUrl(v)) && v.jupyterhub_db_password) out.push(line('PGPASSWORD', v.jupyterhub_db_password));
  return `${out.join('\n')}\n`;
}

export function unit(v: JupyterhubVars): string {
  const p = paths(v);
  return `# Managed by orch (role jupyterhub)
[Unit]
Description=JupyterHub ${v.jupyterhub_version}
Documentation=https://jupyterhub.readthedocs.io/en/${v.jupyterhub_version}/
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# root: PAM checks passwords and the spawner starts each user's server as that user
User=root
WorkingDirectory=${v.jupyterhub_data_dir}
# jupyterhub-singleuser and the proxy's node from PATH
Environment=PATH=${p.venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EnvironmentFile=${SECRETS_FILE}
ExecStart=${p.venv}/bin/jupyterhub --config=${CONFIG_FILE}
LimitNOFILE=65536
Restart=on-failure
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
`;
}

/** POSIX sh: exit 0 once the hub answers /hub/health through the proxy and its API reports the release */
export function healthCheck(address: string, port: number, baseUrl: string, version: string): string {
  const base = `http://${host(address)}:${port}${baseUrl}hub`;
  return `curl -fsS --max-time 5 -o /dev/null ${base}/health && curl -fsS --max-time 5 ${base}/api | grep -q ${q(`"version": *"${version}"`)}`;
}
