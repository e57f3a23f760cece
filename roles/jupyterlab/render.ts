/**
 * JupyterLab's files, typed: the lock of a release (kept in the repository, installed by ops.pythonVenv), the server's
 * configuration (Python, no secret), the non-secret and the secret EnvironmentFiles, the notebooks' Spark defaults
 * (a SPARK_CONF_DIR of the role's), the kernel spec whose launcher puts the host's PySpark on the kernel's path, the
 * systemd unit and the health check. Pure: unit-tested against vps-trio-resource-analysis.md's values.
 */
import { pythonLocks } from '../../src/role/python-locks.js';
import { environmentFileValue, parseLock, q } from '../../src/ops/index.js';
import type { PeerHost } from '../../src/role/define.js';

export const ETC = '/etc/jupyterlab';
/** JUPYTER_CONFIG_DIR: jupyter_server_config.py is read from here */
export const CONFIG_FILE = `${ETC}/jupyter_server_config.py`;
export const ENV_FILE = `${ETC}/jupyterlab.env`;
export const SECRETS_FILE = `${ETC}/secrets.env`;
/**
 * jupyter_core's marker that IPython 3's config was migrated: without it, every jupyter command (the server at a
 * restart, `jupyter execute`) run once ~/.ipython exists (a kernel made it) writes it into JUPYTER_CONFIG_DIR, which
 * the user may not write: PermissionError, the server does not start. Root's file: read, never written.
 */
export const MIGRATED_MARKER = `${ETC}/migrated`;
export const MIGRATED_TEXT = "# Managed by orch (role jupyterlab): jupyter_core's marker, so that no jupyter command migrates IPython 3 config into this root-owned dir\n";
/** SPARK_CONF_DIR of the notebooks' drivers (the spark role's /opt/spark/conf is the daemons') */
export const SPARK_CONF = `${ETC}/spark`;
/** a JUPYTER_PATH entry: its kernels/python3 replaces ipykernel's own spec (found first) */
export const JUPYTER_PATH = `${ETC}/share`;
export const KERNEL_SPEC = `${JUPYTER_PATH}/kernels/python3/kernel.json`;
/** the Python minor the locks are made for (cp311 wheels): Debian 12's python3, the seed's Python 3.11 */
/** the spark role's defaults, when the master's host does not set its own */
export const SPARK_MASTER_PORT = 7077;
export const SPARK_INSTALL_ROOT = '/opt/spark';
/** the token: safe in a URL, an env file, a curl config and sed without quoting */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

export interface JupyterlabVars {
  jupyterlab_version: string;
  jupyterlab_install_root: string;
  jupyterlab_user: string;
  jupyterlab_data_dir: string;
  jupyterlab_bind: string;
  jupyterlab_port: number;
  jupyterlab_notebook_dir: string;
  jupyterlab_token: string;
  jupyterlab_cull_idle_seconds: number;
  jupyterlab_spark_home: string;
  jupyterlab_spark_master_url: string;
  jupyterlab_spark_master_group: string;
  jupyterlab_spark_driver_memory: string;
  jupyterlab_spark_driver_host: string;
  jupyterlab_spark_event_log_enabled: boolean;
  jupyterlab_spark_event_log_dir: string;
  jupyterlab_spark_python: string;
  jupyterlab_spark_defaults_extra: Record<string, string | number | boolean>;
}

const locks = pythonLocks('jupyterlab');
/** the lock's file name for a release */
export const lockName = (version: string) => locks.fileName(version);
/** the lock on the controller (in the repository) */
export const lockOnController = (version: string) => locks.onController(version);

/** the jupyter_server release a lock pins (what the server's /api reports) */
export function serverVersion(lockText: string): string {
  const pin = parseLock(lockText).find((p) => p.name === 'jupyter-server');
  if (!pin) throw new Error('jupyterlab lock: no jupyter-server pin');
  return pin.version;
}

export interface Paths {
  root: string;
  venv: string;
  /** the lock on the host, for the operator to read (ops.pythonVenv's `lock`) */
  lock: string;
  /** the kernels' launcher: PySpark of SPARK_HOME on PYTHONPATH, then ipykernel */
  kernelLauncher: string;
}

export function paths(v: Pick<JupyterlabVars, 'jupyterlab_install_root' | 'jupyterlab_version'>): Paths {
  const root = v.jupyterlab_install_root;
  return { root, venv: `${root}/venv`, lock: `${root}/${lockName(v.jupyterlab_version)}`, kernelLauncher: `${root}/pyspark-kernel` };
}

/** SPARK_HOME: the variable, else the spark role's ROOT/current (ROOT: the host's spark_install_root, /opt/spark) */
export function sparkHome(v: Pick<JupyterlabVars, 'jupyterlab_spark_home'>, hostVars: Record<string, unknown>): string {
  if (v.jupyterlab_spark_home) return v.jupyterlab_spark_home;
  const root = typeof hostVars.spark_install_root === 'string' && hostVars.spark_install_root ? hostVars.spark_install_root : SPARK_INSTALL_ROOT;
  return `${root}/current`;
}

const num = (x: unknown, d: number) => (typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : d);
const hostPort = (address: string, port: number) => `${address.includes(':') ? `[${address}]` : address}:${port}`;

/**
 * spark.master: the variable, else every host of the master group on its spark_master_port (7077), as the spark role's
 * workers are given it: `spark://10.104.0.4:7077`; standby masters: `spark://m1:7077,m2:7077`. '' when there is none.
 */
export function masterUrl(v: Pick<JupyterlabVars, 'jupyterlab_spark_master_url'>, masters: PeerHost[]): string {
  if (v.jupyterlab_spark_master_url) return v.jupyterlab_spark_master_url;
  if (!masters.length) return '';
  return `spark://${masters.map((m) => hostPort(m.address, num(m.vars.spark_master_port, SPARK_MASTER_PORT))).join(',')}`;
}

/** `768m` -> 768, `2g` -> 2048 (MiB) */
export function memoryMb(s: string): number {
  const m = /^(\d+)([mMgG])$/.exec(s.trim());
  if (!m) throw new Error(`jupyterlab: memory ${JSON.stringify(s)}: expected a number with m or g (e.g. 768m, 2g)`);
  return Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1);
}

/** a Python literal: JSON's strings, numbers and lists are Python's; booleans and null are not */
export function py(x: unknown): string {
  if (x === null || x === undefined) return 'None';
  if (typeof x === 'boolean') return x ? 'True' : 'False';
  if (Array.isArray(x)) return `[${x.map(py).join(', ')}]`;
  if (typeof x === 'object') return `{${Object.entries(x as Record<string, unknown>).map(([k, y]) => `${JSON.stringify(k)}: ${py(y)}`).join(', ')}}`;
  return JSON.stringify(x);
}

/**
 * jupyter_server_config.py (read from JUPYTER_CONFIG_DIR): where and how the server listens, the notebooks' root, no
 * browser, token auth (the token itself comes from JUPYTER_TOKEN in secrets.env: not here), idle kernels culled, and
 * nothing fetched from the internet (no news, no update check, no PyPI extension manager: the hosts reach no index).
 */
export function serverConfig(v: JupyterlabVars): string {
  const out = [
    '# Managed by orch (role jupyterlab): JupyterLab\'s server. The token is JUPYTER_TOKEN in secrets.env, not here.',
    'c = get_config()  # noqa: F821',
    `c.ServerApp.ip = ${py(v.jupyterlab_bind)}`,
    `c.ServerApp.port = ${py(v.jupyterlab_port)}`,
    // the port or nothing: another free port would be one nobody knows
    'c.ServerApp.port_retries = 0',
    `c.ServerApp.root_dir = ${py(v.jupyterlab_notebook_dir)}`,
    'c.ServerApp.open_browser = False',
    'c.ServerApp.allow_root = False',
    'c.ServerApp.allow_remote_access = True',
    // token only: no password set at the login page (it would be kept in the user's own config, outside the role's)
    'c.PasswordIdentityProvider.allow_password_change = False',
    'c.LabApp.news_url = None',
    'c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"',
    'c.LabApp.extension_manager = "readonly"',
  ];
  if (v.jupyterlab_cull_idle_seconds > 0) {
    out.push(
      `c.MappingKernelManager.cull_idle_timeout = ${py(v.jupyterlab_cull_idle_seconds)}`,
      `c.MappingKernelManager.cull_interval = ${py(Math.min(300, v.jupyterlab_cull_idle_seconds))}`,
      'c.MappingKernelManager.cull_connected = False',
    );
  }
  return `${out.join('\n')}\n`;
}

export interface Runtime {
  javaHome: string;
  sparkHome: string;
}

/** Non-secret environment of the server and its kernels (and of `jupyter` commands run as the user with it). */
export function envFile(v: JupyterlabVars, rt: Runtime): string {
  const line = (k: string, x: string) => `${k}=${environmentFileValue(x, `${k}: a value holds a newline`)}`;
  return `${[
    '# Managed by orch (role jupyterlab): the environment of jupyterlab.service and its kernels',
    line('HOME', v.jupyterlab_data_dir),
    line('JUPYTER_CONFIG_DIR', ETC),
    line('JUPYTER_PATH', JUPYTER_PATH),
    // JupyterLab keeps what users change in the UI (settings, workspaces) under JUPYTER_CONFIG_DIR unless told: the home
    line('JUPYTERLAB_SETTINGS_DIR', `${v.jupyterlab_data_dir}/lab/user-settings`),
    line('JUPYTERLAB_WORKSPACES_DIR', `${v.jupyterlab_data_dir}/lab/workspaces`),
    line('JAVA_HOME', rt.javaHome),
    line('SPARK_HOME', rt.sparkHome),
    line('SPARK_CONF_DIR', SPARK_CONF),
    line('PYSPARK_PYTHON', v.jupyterlab_spark_python),
  ].join('\n')}\n`;
}

/** The secret: the token (JUPYTER_TOKEN, which jupyter_server reads at start). */
export function secretsEnv(token: string): string {
  return `# Managed by orch (role jupyterlab): secrets of jupyterlab.service (root:jupyter 0640)\nJUPYTER_TOKEN=${environmentFileValue(token, 'JUPYTER_TOKEN: a newline')}\n`;
}

/** POSIX sh printing the token kept in secrets.env (the cluster value's `read`) */
export const readToken = `sed -n 's/^JUPYTER_TOKEN="\\(.*\\)"$/\\1/p' ${q(SECRETS_FILE)} 2>/dev/null`;

/** spark-defaults.conf of the notebooks' drivers */
export function sparkDefaults(v: JupyterlabVars, o: { master: string; driverHost: string }): string {
  const props: Array<[string, string | number | boolean]> = [];
  if (o.master) props.push(['spark.master', o.master]);
  props.push(['spark.driver.memory', v.jupyterlab_spark_driver_memory]);
  // where executors reach the driver (the inventory's address of this host, as the spark role's SPARK_LOCAL_HOSTNAME)
  props.push(['spark.driver.host', o.driverHost]);
  props.push(['spark.eventLog.enabled', v.jupyterlab_spark_event_log_enabled]);
  if (v.jupyterlab_spark_event_log_enabled) props.push(['spark.eventLog.dir', `file:${v.jupyterlab_spark_event_log_dir}`]);
  props.push(['spark.pyspark.python', v.jupyterlab_spark_python]);
  for (const [k, x] of Object.entries(v.jupyterlab_spark_defaults_extra)) {
    const i = props.findIndex(([p]) => p === k);
    if (i >= 0) props[i] = [k, x];
    else props.push([k, x]);
  }
  for (const [k, x] of props) if (/[\n\r]/.test(`${k}${String(x)}`)) throw new Error(`jupyterlab spark-defaults ${k}: a newline`);
  return `# Managed by orch (role jupyterlab): Spark defaults of the notebooks (SPARK_CONF_DIR=${SPARK_CONF})\n${props.map(([k, x]) => `${k} ${String(x)}`).join('\n')}\n`;
}

/**
 * The kernels' launcher: SPARK_HOME's pyspark.zip and py4j-*-src.zip (its name carries py4j's version, which a Spark
 * upgrade changes: looked up at each kernel start) on PYTHONPATH, then the venv's ipykernel. Without PySpark there the
 * kernel still starts (plain Python) and says why in the server's log.
 */
export function kernelLauncher(v: JupyterlabVars): string {
  return `#!/bin/sh
# Managed by orch (role jupyterlab): a notebook kernel with the host's PySpark (SPARK_HOME's python/lib) on its path
lib="\${SPARK_HOME:-/opt/spark/current}/python/lib"
py4j=
n=0
for f in "$lib"/py4j-*-src.zip; do
  if [ -f "$f" ]; then py4j=$f; n=$((n + 1)); fi
done
if [ -f "$lib/pyspark.zip" ] && [ "$n" -ge 1 ]; then
  [ "$n" -eq 1 ] || echo "pyspark-kernel: $n py4j archives in $lib, using $py4j" >&2
  PYTHONPATH="$lib/pyspark.zip:$py4j\${PYTHONPATH:+:$PYTHONPATH}"
  export PYTHONPATH
else
  echo "pyspark-kernel: no pyspark.zip and py4j-*-src.zip in $lib (the spark role's release at SPARK_HOME): this kernel has no PySpark" >&2
fi
exec ${q(`${paths(v).venv}/bin/python`)} -m ipykernel_launcher "$@"
`;
}

/** kernels/python3/kernel.json (found before ipykernel's own through JUPYTER_PATH): the launcher above */
export function kernelSpec(v: JupyterlabVars): string {
  return `${JSON.stringify({ argv: [paths(v).kernelLauncher, '-f', '{connection_file}'], display_name: 'Python 3 (PySpark)', language: 'python', metadata: { debugger: true } }, null, 1)}\n`;
}

export function unit(v: JupyterlabVars): string {
  const p = paths(v);
  return `# Managed by orch (role jupyterlab)
[Unit]
Description=JupyterLab ${v.jupyterlab_version} (notebooks, PySpark on the host's Spark)
Documentation=https://jupyterlab.readthedocs.io/en/4.3.x/
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${v.jupyterlab_user}
Group=${v.jupyterlab_user}
WorkingDirectory=${v.jupyterlab_notebook_dir}
Environment=PATH=${p.venv}/bin:/usr/local/bin:/usr/bin:/bin
EnvironmentFile=${ENV_FILE}
EnvironmentFile=${SECRETS_FILE}
ExecStart=${p.venv}/bin/jupyter lab
Restart=on-failure
RestartSec=5
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`;
}

/**
 * POSIX sh: exit 0 once /api/status answers with the token (sent through curl's config on stdin: not on a command
 * line) and /api reports the lock's jupyter_server release.
 */
export function healthCheck(address: string, port: number, serverRelease: string): string {
  const base = `http://${hostPort(address, port)}`;
  return [
    `. ${q(SECRETS_FILE)}`,
    `printf 'header = "Authorization: token %s"\\n' "$JUPYTER_TOKEN" | curl -fsS --max-time 5 -K - ${q(`${base}/api/status`)} >/dev/null`,
    `curl -fsS --max-time 5 ${q(`${base}/api`)} | grep -q ${q(`"version": "${serverRelease}"`)}`,
  ].join(' && ');
}
