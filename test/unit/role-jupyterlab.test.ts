/**
 * The jupyterlab role offline, against vps-trio-resource-analysis.md's VPS 3 (spark-jupyter: JupyterLab on 8888,
 * 500m / 1024 Mi, driver memory 768m, Python 3.11, notebooks in /opt/spark/notebooks, event logs in /var/spark-events;
 * the Spark master 10.104.0.4:7077 on the same VPS): defaults, the lock, jupyter_server_config.py run by python3 with a
 * recording get_config(), the env files read back by sh, the kernel launcher run by sh against a Spark layout, the
 * Spark defaults, the unit, the health check, validate, declarations, the token's cluster value and the operations in
 * install order with no secret outside secrets.env. The real server: test/integration/role-jupyterlab.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import jupyterlab from '../../roles/jupyterlab/index.js';
import {
  CONFIG_FILE,
  ENV_FILE,
  KERNEL_SPEC,
  MIGRATED_MARKER,
  SECRETS_FILE,
  envFile,
  healthCheck,
  kernelLauncher,
  kernelSpec,
  lockOnController,
  masterUrl,
  py,
  readToken,
  secretsEnv,
  serverConfig,
  serverVersion,
  sparkDefaults,
  sparkHome,
  unit,
  type JupyterlabVars,
} from '../../roles/jupyterlab/render.js';
import { parseLock } from '../../src/ops/python-lock.js';
import type { Operation, Plan } from '../../src/ops/types.js';
import type { PeerHost, RoleContext } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, sourced, written } from './role-harness.js';

const DEFAULTS = defaultsOf(jupyterlab) as unknown as JupyterlabVars;
const jv = (over: Partial<JupyterlabVars> = {}): JupyterlabVars => ({ ...DEFAULTS, ...over });
const TOKEN = '0123456789abcdef0123456789abcdef';
const JAVA_HOME = '/usr/lib/jvm/java-17-openjdk-amd64';
const LIMITS = { resource_limits: { 'spark-master': { memory_mb: 1280, cpus: 0.6 }, 'spark-worker': { memory_mb: 2816, cpus: 1.4 }, jupyterlab: { memory_mb: 1024, cpus: 0.5 } } };

// vps-trio: VPS 3 (10.104.0.4) runs the Spark master, two workers and JupyterLab
const TRIO: PeerHost[] = [
  peer('vps1', 'vps1', ['postgresql', 'minio', 'airflow']),
  peer('vps2', 'vps2', ['zookeeper', 'clickhouse']),
  { ...peer('vps3', '10.104.0.4', ['spark_master', 'spark_worker', 'jupyterlab'], { spark_master_port: 7077, ...LIMITS }), roles: ['common', 'java', 'spark', 'jupyterlab'] },
];
const ctx = (o: { host?: string; vars?: Record<string, unknown>; peers?: PeerHost[]; cluster?: Record<string, string>; facts?: Record<string, unknown> } = {}): RoleContext<any> => {
  const c = roleContext(jupyterlab, { peers: o.peers ?? TRIO, host: o.host ?? 'vps3', vars: o.vars, exported: { java: { java_home: JAVA_HOME } }, cluster: o.cluster ?? { jupyterlab_token: TOKEN }, facts: o.facts });
  // host vars as the engine gives them: the host's own (resource_limits, spark_*), under the role's variables
  return { ...c, host: { ...c.host, vars: { ...c.host.vars, ...c.vars } } } as RoleContext<any>;
};

/** runs the config file with a get_config() that records every assignment `c.Section.trait = value` */
function configAssignments(text: string): Record<string, unknown> {
  const stub = `import json, sys
class Section:
    def __init__(self, name, out): object.__setattr__(self, "_n", name); object.__setattr__(self, "_o", out)
    def __setattr__(self, k, v): self._o[self._n + "." + k] = v
class Config:
    def __init__(self): object.__setattr__(self, "_o", {})
    def __getattr__(self, name): return Section(name, self._o)
cfg = Config()
exec(compile(sys.stdin.read(), "jupyter_server_config.py", "exec"), {"get_config": lambda: cfg})
print(json.dumps(cfg._o))
`;
  const r = spawnSync('python3', ['-c', stub], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const textOf = (op: Operation<any> | undefined) => written(op);

describe('jupyterlab: defaults from the seed', () => {
  it("spark-jupyter's 8888, driver memory 768m, /opt/spark/notebooks, /var/spark-events; the token secret", () => {
    expect(DEFAULTS).toMatchObject({
      jupyterlab_version: '4.3.4',
      jupyterlab_port: 8888,
      jupyterlab_user: 'jupyter',
      jupyterlab_notebook_dir: '/opt/spark/notebooks',
      jupyterlab_spark_driver_memory: '768m',
      jupyterlab_spark_event_log_enabled: true,
      jupyterlab_spark_event_log_dir: '/var/spark-events',
      jupyterlab_spark_python: 'python3',
      jupyterlab_spark_master_group: 'spark_master',
      jupyterlab_token: '',
    });
    expect(jupyterlab.vars.jupyterlab_token.secret).toBe(true);
    expect(jupyterlab.dependsOn).toEqual(['java']);
    expect(jupyterlab.doc).toMatch(/JUPYTER_TOKEN/);
  });

  it("the repository's lock pins JupyterLab 4.3.4 and ipykernel with their dependencies, each with a sha256; no pyspark", () => {
    const text = readFileSync(lockOnController('4.3.4'), 'utf8');
    const pins = parseLock(text);
    const byName = new Map(pins.map((p) => [p.name, p.version]));
    expect(byName.get('jupyterlab')).toBe('4.3.4');
    expect(byName.get('ipykernel')).toBe('6.29.5');
    expect(byName.get('nbclient')).toBeDefined(); // jupyter execute
    expect(byName.has('pyspark')).toBe(false);
    expect(byName.has('py4j')).toBe(false);
    expect(serverVersion(text)).toBe('2.15.0');
    expect(pins.every((p) => p.hashes.length > 0 && p.hashes.every((h) => /^[0-9a-f]{64}$/.test(h)))).toBe(true);
    expect(pins.length).toBe(90);
    expect(text).toMatch(/--exclude-newer 2024-12-31T00:00:00Z/);
  });
});

describe('jupyterlab: jupyter_server_config.py', () => {
  it('is valid Python: run with a recording get_config(), it sets what the seed asks and no token', () => {
    const text = serverConfig(jv());
    expect(configAssignments(text)).toEqual({
      'ServerApp.ip': '0.0.0.0',
      'ServerApp.port': 8888,
      'ServerApp.port_retries': 0,
      'ServerApp.root_dir': '/opt/spark/notebooks',
      'ServerApp.open_browser': false,
      'ServerApp.allow_root': false,
      'ServerApp.allow_remote_access': true,
      'PasswordIdentityProvider.allow_password_change': false,
      'LabApp.news_url': null,
      'LabApp.check_for_updates_class': 'jupyterlab.NeverCheckForUpdate',
      'LabApp.extension_manager': 'readonly',
      'MappingKernelManager.cull_idle_timeout': 3600,
      'MappingKernelManager.cull_interval': 300,
      'MappingKernelManager.cull_connected': false,
    });
    expect(text).not.toMatch(/token\s*=/i);
    // culling off: no culler settings; an odd root dir is a Python string
    const off = configAssignments(serverConfig(jv({ jupyterlab_cull_idle_seconds: 0, jupyterlab_notebook_dir: '/srv/it\'s "nb"' as string })));
    expect(Object.keys(off).filter((k) => k.startsWith('MappingKernelManager'))).toEqual([]);
    expect(off['ServerApp.root_dir']).toBe('/srv/it\'s "nb"');
  });

  it('py() writes Python literals', () => {
    expect(py({ a: [1, true, null, 'x"y'] })).toBe('{"a": [1, True, None, "x\\"y"]}');
  });
});

describe('jupyterlab: env files, token', () => {
  it('the service environment and the token read back byte for byte by sh; the token only in secrets.env', () => {
    const env = envFile(jv(), { javaHome: JAVA_HOME, sparkHome: '/opt/spark/current' });
    expect(sourced([env, secretsEnv(TOKEN)], ['HOME', 'JUPYTER_CONFIG_DIR', 'JUPYTER_PATH', 'JUPYTERLAB_SETTINGS_DIR', 'JUPYTERLAB_WORKSPACES_DIR', 'JAVA_HOME', 'SPARK_HOME', 'SPARK_CONF_DIR', 'PYSPARK_PYTHON', 'JUPYTER_TOKEN'])).toBe(
      `/var/lib/jupyterlab|/etc/jupyterlab|/etc/jupyterlab/share|/var/lib/jupyterlab/lab/user-settings|/var/lib/jupyterlab/lab/workspaces|${JAVA_HOME}|/opt/spark/current|/etc/jupyterlab/spark|python3|${TOKEN}|`,
    );
    expect(env).not.toContain(TOKEN);
    expect(() => secretsEnv('a\nb')).toThrow(/newline/);
  });

  it("the cluster value's read gives the token itself (not its quotes) from secrets.env", () => {
    const dir = tmp();
    const f = join(dir, 'secrets.env');
    writeFileSync(f, secretsEnv(TOKEN));
    const r = spawnSync('sh', ['-c', readToken.replace(`'${SECRETS_FILE}'`, `'${f}'`).replace(SECRETS_FILE, f)], { encoding: 'utf8' });
    expect(r.stdout).toBe(`${TOKEN}\n`);
    // no file yet: nothing, and no failure that would stop the read
    expect(spawnSync('sh', ['-c', readToken.replace(SECRETS_FILE, join(dir, 'none'))], { encoding: 'utf8' }).stdout).toBe('');
    const [spec] = jupyterlab.clusterValues!(ctx());
    expect(spec).toMatchObject({ name: 'jupyterlab_token', group: 'jupyterlab', secret: true, override: 'jupyterlab_token', overrideReplaces: true });
    expect(spec.pattern!.test(TOKEN)).toBe(true);
    expect(spec.pattern!.test('short')).toBe(false);
    expect(spec.pattern!.test('a"b$c`d\\e0123456789')).toBe(false);
  });
});

describe("jupyterlab: the notebooks' Spark", () => {
  it("spark-defaults.conf: the master of the inventory, the seed's driver memory and event log, python3; extra properties win", () => {
    const text = sparkDefaults(jv({ jupyterlab_spark_defaults_extra: { 'spark.executor.memory': '512m', 'spark.driver.memory': '640m' } }), { master: 'spark://10.104.0.4:7077', driverHost: '10.104.0.4' });
    expect(text.split('\n').slice(1)).toEqual([
      'spark.master spark://10.104.0.4:7077',
      'spark.driver.memory 640m',
      'spark.driver.host 10.104.0.4',
      'spark.eventLog.enabled true',
      'spark.eventLog.dir file:/var/spark-events',
      'spark.pyspark.python python3',
      'spark.executor.memory 512m',
      '',
    ]);
    expect(sparkDefaults(jv({ jupyterlab_spark_event_log_enabled: false }), { master: 'x', driverHost: 'h' })).not.toContain('spark.eventLog.dir');
  });

  it("the master URL: every host of spark_master on its spark_master_port (the spark role's workers get the same)", () => {
    expect(masterUrl(jv(), [TRIO[2]])).toBe('spark://10.104.0.4:7077');
    expect(masterUrl(jv(), [peer('m1', '10.0.0.1', [], { spark_master_port: 7177 }), peer('m2', 'fd00::2', [])])).toBe('spark://10.0.0.1:7177,[fd00::2]:7077');
    expect(masterUrl(jv({ jupyterlab_spark_master_url: 'spark://other:7077' }), [TRIO[2]])).toBe('spark://other:7077');
    expect(masterUrl(jv(), [])).toBe('');
  });

  it("SPARK_HOME: the spark role's ROOT/current, the host's spark_install_root, or the variable", () => {
    expect(sparkHome(jv(), {})).toBe('/opt/spark/current');
    expect(sparkHome(jv(), { spark_install_root: '/srv/spark' })).toBe('/srv/spark/current');
    expect(sparkHome(jv({ jupyterlab_spark_home: '/usr/local/spark' }), { spark_install_root: '/srv/spark' })).toBe('/usr/local/spark');
  });

  it("the kernel launcher, run by sh: pyspark.zip and the one py4j-*-src.zip of SPARK_HOME on PYTHONPATH, then the venv's ipykernel", () => {
    const dir = tmp();
    const home = join(dir, 'spark');
    mkdirSync(join(home, 'python', 'lib'), { recursive: true });
    for (const f of ['pyspark.zip', 'py4j-0.10.9.7-src.zip']) writeFileSync(join(home, 'python', 'lib', f), '');
    // the venv's python replaced by a script printing what it was given
    const root = join(dir, 'jl');
    mkdirSync(join(root, 'venv', 'bin'), { recursive: true });
    writeFileSync(join(root, 'venv', 'bin', 'python'), '#!/bin/sh\nprintf "%s\\n" "PYTHONPATH=$PYTHONPATH" "$@"\n', { mode: 0o755 });
    const launcher = join(root, 'pyspark-kernel');
    writeFileSync(launcher, kernelLauncher(jv({ jupyterlab_install_root: root })), { mode: 0o755 });
    const r = spawnSync(launcher, ['-f', '/run/kernel-1.json'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SPARK_HOME: home } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`PYTHONPATH=${home}/python/lib/pyspark.zip:${home}/python/lib/py4j-0.10.9.7-src.zip\n-m\nipykernel_launcher\n-f\n/run/kernel-1.json\n`);
    expect(r.stderr).toBe('');
    // an existing PYTHONPATH is kept after them
    expect(spawnSync(launcher, [], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SPARK_HOME: home, PYTHONPATH: '/x' } }).stdout).toMatch(/src\.zip:\/x\n/);
    // no Spark there: the kernel still starts, without PySpark, and says why
    const none = spawnSync(launcher, ['-f', 'k.json'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SPARK_HOME: join(dir, 'nothing') } });
    expect(none.status).toBe(0);
    expect(none.stdout).toBe('PYTHONPATH=\n-m\nipykernel_launcher\n-f\nk.json\n');
    expect(none.stderr).toMatch(/no pyspark\.zip and py4j-\*-src\.zip in .*nothing\/python\/lib/);
    expect(spawnSync('sh', ['-n', launcher]).status).toBe(0);
  });

  it('the kernel spec starts the launcher with the connection file', () => {
    expect(JSON.parse(kernelSpec(jv()))).toEqual({ argv: ['/opt/jupyterlab/pyspark-kernel', '-f', '{connection_file}'], display_name: 'Python 3 (PySpark)', language: 'python', metadata: { debugger: true } });
  });
});

describe('jupyterlab: unit and health', () => {
  it('runs jupyter lab from the venv as jupyter in the notebook dir, both env files, no secret, no argument', () => {
    const text = unit(jv());
    expect(text).toContain('User=jupyter\nGroup=jupyter\nWorkingDirectory=/opt/spark/notebooks\n');
    expect(text).toContain(`EnvironmentFile=${ENV_FILE}\nEnvironmentFile=${SECRETS_FILE}\n`);
    expect(text).toContain('ExecStart=/opt/jupyterlab/venv/bin/jupyter lab\n');
    expect(text).not.toMatch(/token/i);
  });

  it('the health check sends the token through curl\'s config on stdin and wants /api\'s jupyter_server release', () => {
    const cmd = healthCheck('10.104.0.4', 8888, '2.15.0');
    expect(cmd).toBe(
      `. /etc/jupyterlab/secrets.env && printf 'header = "Authorization: token %s"\\n' "$JUPYTER_TOKEN" | curl -fsS --max-time 5 -K - http://10.104.0.4:8888/api/status >/dev/null && curl -fsS --max-time 5 http://10.104.0.4:8888/api | grep -q '"version": "2.15.0"'`,
    );
    expect(spawnSync('sh', ['-n', '-c', cmd]).status).toBe(0);
    // what curl reads on stdin, with a token in the environment
    const cfg = spawnSync('sh', ['-c', `printf 'header = "Authorization: token %s"\\n' "$JUPYTER_TOKEN"`], { encoding: 'utf8', env: { JUPYTER_TOKEN: TOKEN } }).stdout;
    expect(cfg).toBe(`header = "Authorization: token ${TOKEN}"\n`);
  });
});

describe('jupyterlab: validate and declarations', () => {
  it('refuses a host outside its group, a release without a lock, no Spark master, a driver larger than the limit', () => {
    expect(jupyterlab.validate!(ctx())).toEqual([]);
    expect(jupyterlab.validate!(ctx({ host: 'vps1' }))).toEqual(['host vps1 runs jupyterlab but is not in group jupyterlab']);
    expect(jupyterlab.validate!(ctx({ vars: { jupyterlab_version: '4.2.0' } }))[0]).toMatch(/^jupyterlab_version 4\.2\.0: no lock .*jupyterlab-4\.2\.0-py3\.11\.txt/);
    const alone = [peer('nb1', '10.0.0.9', ['jupyterlab'])];
    expect(jupyterlab.validate!(ctx({ peers: alone, host: 'nb1' }))).toEqual([
      'jupyterlab_spark_master_url is empty and group "spark_master" (jupyterlab_spark_master_group) has no host: notebooks would have no Spark master; set jupyterlab_spark_master_url (spark://HOST:7077) or place the master in that group',
    ]);
    expect(jupyterlab.validate!(ctx({ peers: alone, host: 'nb1', vars: { jupyterlab_spark_master_url: 'spark://10.0.0.1:7077' } }))).toEqual([]);
    expect(jupyterlab.validate!(ctx({ vars: { jupyterlab_spark_driver_memory: '1g' } }))).toEqual([
      "jupyterlab_spark_driver_memory 1g does not fit resource_limits.jupyterlab.memory_mb 1024 (the unit's MemoryMax= holds the server, its kernels and the driver's JVM): lower the driver memory or raise the limit",
    ]);
  });

  it("declares 8888 and the document's 1024 MiB / 0.5 CPU (from resource_limits.jupyterlab, or the seed's without)", () => {
    expect(jupyterlab.declares!(ctx())).toEqual({
      ports: [{ port: 8888, variable: 'jupyterlab_port', description: 'JupyterLab' }],
      memoryMb: 1024,
      cpus: 0.5,
      dataDirs: ['/opt/spark/notebooks'],
      serves: ['jupyterlab'],
    });
    const bigger = ctx({ vars: { resource_limits: { jupyterlab: { memory_mb: 4096, cpus: 2 } } } });
    expect(jupyterlab.declares!(bigger)).toMatchObject({ memoryMb: 4096, cpus: 2 });
    const none = ctx({ peers: [peer('nb1', '10.0.0.9', ['jupyterlab', 'spark_master'])], host: 'nb1' });
    expect(jupyterlab.declares!(none)).toMatchObject({ memoryMb: 1024, cpus: 0.5 });
  });
});

describe('jupyterlab: operations', () => {
  it('in install order: packages, user, venv from the lock, launcher, dirs, config, env files, kernel spec, Spark defaults, unit, service, health', () => {
    const list = jupyterlab.operations(ctx());
    expect(list.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'packages python3, python3-venv, curl',
      'group jupyter',
      'user jupyter',
      'dir /opt/jupyterlab',
      'file /opt/jupyterlab/jupyterlab-4.3.4-py3.11.txt',
      'python-venv /opt/jupyterlab/venv',
      'file /opt/jupyterlab/pyspark-kernel',
      'dir /var/lib/jupyterlab',
      'dir /opt/spark/notebooks',
      // no /var/spark-events: the spark role makes it on vps3
      'dir /etc/jupyterlab',
      `file ${CONFIG_FILE}`,
      `file ${MIGRATED_MARKER}`,
      `file ${ENV_FILE}`,
      `file ${SECRETS_FILE}`,
      'dir /etc/jupyterlab/share/kernels/python3',
      `file ${KERNEL_SPEC}`,
      'dir /etc/jupyterlab/spark',
      'file /etc/jupyterlab/spark/spark-defaults.conf',
      'unit /etc/systemd/system/jupyterlab.service',
      'service jupyterlab.service',
      'health JupyterLab on vps3 answers /api/status with its token on 8888 (jupyter_server 2.15.0)',
    ]);
    const venv = named(list, 'python-venv')!;
    expect(venv.notify).toEqual(['jupyterlab']);
    expect((venv.plan(null) as Extract<Plan, { status: 'change' }>).reason).toBe('no venv: create it and install 90 pins');
    // the server restarts for its config and environment; kernels read the launcher, the spec and Spark's defaults at their start
    for (const f of [CONFIG_FILE, ENV_FILE, SECRETS_FILE]) expect(named(list, 'file', f)!.notify).toEqual(['jupyterlab']);
    for (const f of [KERNEL_SPEC, MIGRATED_MARKER, '/etc/jupyterlab/spark/spark-defaults.conf', '/opt/jupyterlab/pyspark-kernel']) expect(named(list, 'file', f)!.notify ?? []).toEqual([]);
    expect(named(list, 'file', SECRETS_FILE)!.secret).toBe(true);
    expect(textOf(named(list, 'file', '/etc/jupyterlab/spark/spark-defaults.conf'))).toContain('spark.master spark://10.104.0.4:7077\nspark.driver.memory 768m\nspark.driver.host 10.104.0.4\n');
    expect(textOf(named(list, 'file', ENV_FILE))).toContain(`JAVA_HOME="${JAVA_HOME}"\nSPARK_HOME="/opt/spark/current"\n`);
    // resource_limits.jupyterlab: the unit's MemoryMax= / CPUQuota=
    const u = textOf(named(list, 'unit'));
    expect(u).toContain('MemoryMax=1024M\n');
    expect(u).toContain('CPUQuota=50%\n');
  });

  it('the token (the cluster value) is only in secrets.env, written 0640 root:jupyter', () => {
    const list = jupyterlab.operations(ctx());
    // what each operation would run on a fresh host (its scripts, diffs, reasons)
    const fresh = (o: Operation<any>): Plan => {
      for (const f of [{ stat: null, sha256: null }, { installed: [] }, null]) {
        try {
          return o.plan(f);
        } catch {
          // another fact shape
        }
      }
      throw new Error(`${o.kind} ${o.name}: no plan`);
    };
    const holding = list.filter((o) => JSON.stringify(fresh(o)).includes(TOKEN) || o.name.includes(TOKEN)).map((o) => o.name);
    expect(holding).toEqual([SECRETS_FILE]);
    expect(textOf(named(list, 'file', SECRETS_FILE))).toBe(`# Managed by orch (role jupyterlab): secrets of jupyterlab.service (root:jupyter 0640)\nJUPYTER_TOKEN="${TOKEN}"\n`);
    const s = (named(list, 'file', SECRETS_FILE)!.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>).script;
    expect(s).toMatch(/chown root:jupyter|root:jupyter/);
    expect(s).toMatch(/0?640/);
    // the inventory's token, when the engine has none (as given by override)
    expect(textOf(named(jupyterlab.operations(ctx({ cluster: {}, vars: { jupyterlab_token: 'given-token-0123456789' } })), 'file', SECRETS_FILE))).toContain('JUPYTER_TOKEN="given-token-0123456789"\n');
    expect(() => jupyterlab.operations(ctx({ cluster: {} }))).toThrow(/no token resolved/);
  });

  it('makes the event log dir (03777) where the spark role does not; no limits without resource_limits; RHEL python3.11', () => {
    const alone = [peer('nb1', '10.0.0.9', ['jupyterlab', 'spark_master'])];
    const list = jupyterlab.operations(ctx({ peers: alone, host: 'nb1' }));
    const d = named(list, 'dir', '/var/spark-events')!;
    expect(d).toBeDefined();
    expect((d.plan({ stat: null }) as Extract<Plan, { status: 'change' }>).script).toMatch(/3777/);
    expect(textOf(named(list, 'unit'))).not.toMatch(/MemoryMax|CPUQuota/);
    expect(named(jupyterlab.operations(ctx({ peers: alone, host: 'nb1', vars: { jupyterlab_spark_event_log_enabled: false } })), 'dir', '/var/spark-events')).toBeUndefined();
    const rhel = jupyterlab.operations(ctx({ facts: { osFamily: 'redhat' } }));
    expect(rhel[0].name).toBe('python3.11, curl');
    expect((named(rhel, 'python-venv')!.plan(null) as Extract<Plan, { status: 'change' }>).script).toContain('python3.11 -m venv');
  });
});
