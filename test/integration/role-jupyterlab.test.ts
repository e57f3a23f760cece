/**
 * The jupyterlab role on one simulated host laid out as vps-trio-resource-analysis.md's VPS 3: the Spark master and
 * two worker instances (the spark role, real Spark 3.5.0 assembled from PyPI's pyspark sdist, OpenJDK 17 from
 * Debian) and JupyterLab 4.3.4 (spark-jupyter: 8888, 1024 MiB / 0.5 CPU, driver memory 768m) from its lock's
 * wheelhouse, built on this machine and pushed: the host reaches no index. No pyspark from PyPI on the host: the
 * kernels import the spark role's release.
 *   - `--check` on the fresh host says exactly what the first run changes;
 *   - /api/status answers with the token (a generated cluster value) and refuses without it; /api reports
 *     jupyter_server 2.15.0; the token only in secrets.env (0640 root:jupyter), not in the unit, the config or `ps`;
 *   - a notebook written into /opt/spark/notebooks, executed as the service user with the service's environment,
 *     builds a SparkSession with no master (the role's spark-defaults.conf gives it), sums spark.range(1000) on the
 *     workers: 499500; the master's /json lists the application completed, its event log is in /var/spark-events;
 *   - a kernel started by the server through the REST API runs inside jupyterlab.service (its cgroup, its limits) with
 *     PySpark on its path, and runs a Spark job there too;
 *   - the unit has MemoryMax=1024M / CPUQuota=50% from resource_limits.jupyterlab;
 *   - a rerun changes nothing, `--check` then 0 changes;
 *   - a changed setting restarts the server behind its health check once kernels have run (~/.ipython exists: found
 *     here, jupyter_core then writes a marker into the root-owned config dir and failed, `jupyter execute` too); what a
 *     user changes in the UI is saved in the home.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const H = 'sp1';
const art = useArtifactMirror([{ service: 'spark', version: '3.5.0' }]);
const t = useRoleTest({
  name: 'jupyterlab',
  hosts: [{ name: H, groups: ['spark_master', 'spark_worker', 'jupyterlab'], memoryMb: 4096, vars: { resource_limits: { jupyterlab: { memory_mb: 1024, cpus: 0.5 } } } }],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'processing', hosts: 'spark_master:spark_worker', roles: ['spark'] },
    { name: 'notebooks', hosts: 'jupyterlab', roles: ['jupyterlab'] },
  ],
  // the spark role as vps-trio's VPS 3 (2 worker instances of 1 core), with the small daemons of role-spark's test;
  // no S3A jars (280 MB of AWS SDK, checked by role-spark's test). JupyterLab at the seed's values, executors small.
  vars: () => ({
    artifact_mirror: art.url,
    spark_version: '3.5.0',
    spark_sha512: art.sha512('spark'),
    spark_s3a: false,
    spark_daemon_memory: '256m',
    spark_driver_memory: '512m',
    spark_executor_memory: '512m',
    spark_worker_instances: 2,
    spark_worker_cores: 1,
    spark_worker_memory: '1g',
    jupyterlab_spark_defaults_extra: { 'spark.executor.memory': '512m' },
  }),
});
const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) => t.run({ check: o.check, vars: o.vars });
const addr = () => t.sim.host(H).address;
const base = () => `http://${addr()}:8888`;
const token = async () => (await t.on(H, 'cat /var/lib/orch/values/jupyterlab_token')).trim();

interface MasterJson {
  status: string;
  aliveworkers: number;
  activeapps: Array<{ id: string; name: string }>;
  completedapps: Array<{ id: string; name: string; state: string }>;
}
const masterJson = async () => JSON.parse(await t.on(H, `curl -fsS http://${addr()}:8080/json/`)) as MasterJson;

/** a notebook: a SparkSession with no master given, a sum on the cluster, printed */
const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    {
      cell_type: 'code',
      id: 'spark-sum',
      metadata: {},
      execution_count: null,
      outputs: [],
      source: [
        'from pyspark.sql import SparkSession\n',
        "spark = SparkSession.builder.appName('orch-notebook').getOrCreate()\n",
        "print('master', spark.sparkContext.master)\n",
        "print('app', spark.sparkContext.applicationId)\n",
        "print('sum', spark.range(1000).selectExpr('sum(id)').collect()[0][0])\n",
        'spark.stop()\n',
      ],
    },
  ],
};

/** runs code in a kernel the server started (its connection file in the user's runtime dir), as the service user */
const KERNEL_CLIENT = `import sys
from jupyter_client import BlockingKernelClient
c = BlockingKernelClient(connection_file=sys.argv[1])
c.load_connection_file()
c.start_channels()
c.wait_for_ready(timeout=120)
out = []
def hook(msg):
    if msg["msg_type"] == "stream":
        out.append(msg["content"]["text"])
    elif msg["msg_type"] == "error":
        out.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
reply = c.execute_interactive(sys.stdin.read(), timeout=300, output_hook=hook)
print("".join(out), end="")
print("status", reply["content"]["status"])
`;

describe('jupyterlab: notebooks on the Spark cluster of vps-trio VPS 3', () => {
  let predicted: string[] = [];

  it('--check on the fresh host lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of [
      `${H} cluster-value jupyterlab_token`,
      `${H} python-venv /opt/jupyterlab/venv`,
      `${H} file /opt/jupyterlab/jupyterlab-4.3.4-py3.11.txt`,
      `${H} file /etc/jupyterlab/secrets.env`,
      `${H} file /etc/jupyterlab/spark/spark-defaults.conf`,
      `${H} dir /opt/spark/notebooks`,
      `${H} unit /etc/systemd/system/jupyterlab.service`,
      `${H} service jupyterlab.service`,
    ]) {
      expect(predicted).toContain(p);
    }
    // the event log dir is the spark role's here (made once, 03777), not managed twice
    expect(predicted.filter((p) => p.endsWith(' dir /var/spark-events'))).toHaveLength(1);
  });

  it('exactly as --check said; /api/status answers with the token only; the token in secrets.env alone', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    if (failures(events).length) console.log(`[jupyterlab] journal:\n${(await t.sh(H, 'journalctl -u jupyterlab --no-pager -n 60 | cut -c1-400')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    const phases = events.flatMap((e) => (e.type === 'phase-end' ? [`${e.phase} ${(e.elapsedMs / 1000).toFixed(1)} s`] : []));
    console.log(`[jupyterlab] first run ${((Date.now() - t0) / 1000).toFixed(1)} s (${phases.join(', ')})`);
    expect(changed(events).sort()).toEqual([...predicted].sort());

    const tok = await token();
    expect(tok).toMatch(/^[0-9a-f]{32}$/);
    const status = await fetch(`${base()}/api/status`, { headers: { Authorization: `token ${tok}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ kernels: 0 });
    expect([401, 403]).toContain((await fetch(`${base()}/api/status`)).status);
    expect([401, 403]).toContain((await fetch(`${base()}/api/status`, { headers: { Authorization: 'token wrong-token-0123456789' } })).status);
    expect(await (await fetch(`${base()}/api`)).json()).toEqual({ version: '2.15.0' });

    expect(await t.on(H, "stat -c '%a %U %G' /etc/jupyterlab/secrets.env /etc/jupyterlab/jupyterlab.env /etc/jupyterlab/jupyter_server_config.py")).toBe('640 root jupyter\n640 root jupyter\n640 root jupyter\n');
    expect(await t.on(H, 'cat /etc/jupyterlab/secrets.env')).toContain(`JUPYTER_TOKEN="${tok}"\n`);
    for (const f of ['/etc/systemd/system/jupyterlab.service', '/etc/jupyterlab/jupyterlab.env', '/etc/jupyterlab/jupyter_server_config.py', '/etc/jupyterlab/spark/spark-defaults.conf']) {
      expect(await t.on(H, `cat ${f}`)).not.toContain(tok);
    }
    expect(await t.on(H, 'ps -eo args=')).not.toContain(tok);
    expect(await t.on(H, 'ps -o user=,args= -p "$(systemctl show -p MainPID --value jupyterlab)"')).toMatch(/^jupyter +\S*python\S* \S*jupyter-lab\n$/);
    expect(await t.on(H, "stat -c '%U %a' /opt/spark/notebooks")).toBe('jupyter 750\n');
    expect(await t.on(H, 'cat /etc/jupyterlab/spark/spark-defaults.conf')).toContain(`spark.master spark://${addr()}:7077\nspark.driver.memory 768m\nspark.driver.host ${addr()}\nspark.eventLog.enabled true\nspark.eventLog.dir file:/var/spark-events\nspark.pyspark.python python3\nspark.executor.memory 512m\n`);
    // no pyspark from PyPI in the venv: the kernels use the spark role's release
    expect((await t.sh(H, '/opt/jupyterlab/venv/bin/python -c "import pyspark"')).code).not.toBe(0);
  });

  it('the unit has MemoryMax / CPUQuota from resource_limits.jupyterlab', async () => {
    const show = (await t.on(H, 'systemctl show -p MemoryMax -p CPUQuotaPerSecUSec -p User jupyterlab')).trim().split('\n').sort();
    expect(show).toEqual(['CPUQuotaPerSecUSec=500ms', 'MemoryMax=1073741824', 'User=jupyter']);
    expect(await t.on(H, 'cat /etc/systemd/system/jupyterlab.service')).toMatch(/\nMemoryMax=1024M\nCPUQuota=50%\n/);
  });

  it("a notebook with no master given runs on the cluster through the role's Spark defaults: 499500, completed at the master", async () => {
    const nb = JSON.stringify(NOTEBOOK);
    await t.on(H, `printf '%s' '${nb.replace(/'/g, `'\\''`)}' > /opt/spark/notebooks/sum.ipynb && chown jupyter:jupyter /opt/spark/notebooks/sum.ipynb`);
    const t0 = Date.now();
    // as the service user with the service's (non-secret) environment, in its notebook dir
    const r = await t.sh(H, "cd /opt/spark/notebooks && runuser -u jupyter -- sh -c 'set -a; . /etc/jupyterlab/jupyterlab.env; set +a; PATH=/opt/jupyterlab/venv/bin:$PATH; exec jupyter execute --inplace --timeout=600 sum.ipynb' 2>&1");
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.code !== 0) console.log(`[jupyterlab] jupyter execute: exit ${r.code}\n${r.stdout.slice(-4000)}`);
    expect(r.code).toBe(0);
    const done = JSON.parse(await t.on(H, 'cat /opt/spark/notebooks/sum.ipynb')) as { cells: Array<{ outputs: Array<{ output_type: string; text?: string | string[] }> }> };
    const text = done.cells[0].outputs.filter((o) => o.output_type === 'stream').map((o) => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? ''))).join('');
    console.log(`[jupyterlab] notebook ${secs} s: ${text.trim().replace(/\n/g, '; ')}`);
    expect(text).toContain(`master spark://${addr()}:7077\n`);
    expect(text).toContain('sum 499500\n');
    const appId = /app (app-\S+)/.exec(text)![1];
    const { value: j } = await waitFor(masterJson, (x) => x.completedapps.some((a) => a.id === appId), 30_000, 1000);
    expect(j.completedapps.find((a) => a.id === appId)).toMatchObject({ name: 'orch-notebook', state: 'FINISHED' });
    expect(j.aliveworkers).toBe(2);
    // executors ran on the workers (an instance's work dir has the application's directory); its event log is kept
    expect(await t.on(H, `ls -d /opt/spark/work/${appId} /opt/spark/work-2/${appId} 2>/dev/null | wc -l`)).toBe('2\n');
    expect(await t.on(H, 'ls /var/spark-events')).toContain(appId);
  });

  it('a kernel the server starts runs in jupyterlab.service with PySpark on its path, and runs a Spark job', async () => {
    const tok = await token();
    const auth = { Authorization: `token ${tok}`, 'Content-Type': 'application/json' };
    const k = (await (await fetch(`${base()}/api/kernels`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'python3' }) })).json()) as { id: string };
    expect(k.id).toMatch(/^[0-9a-f-]{36}$/);
    try {
      // the launcher execs the venv's ipykernel: one process, the kernel's (it stays 'starting' until a client asks it)
      const { value: pid } = await waitFor(async () => (await t.sh(H, `pgrep -u jupyter -f 'ipykernel_launcher -f .*kernel-${k.id}[.]json'`)).stdout.trim(), (p) => /^\d+$/.test(p), 60_000, 1000);
      expect(pid).toMatch(/^\d+$/);
      expect(await t.on(H, `cat /proc/${pid}/cgroup`)).toContain('jupyterlab.service');
      const env = await t.on(H, `tr '\\0' '\\n' < /proc/${pid}/environ | grep -E '^(PYTHONPATH|SPARK_CONF_DIR|JAVA_HOME)='`);
      expect(env).toMatch(/^PYTHONPATH=\/opt\/spark\/current\/python\/lib\/pyspark\.zip:\/opt\/spark\/current\/python\/lib\/py4j-[0-9.]+-src\.zip$/m);
      expect(env).toContain('SPARK_CONF_DIR=/etc/jupyterlab/spark\n');
      const code = "from pyspark.sql import SparkSession\nspark = SparkSession.builder.appName('orch-server-kernel').getOrCreate()\nprint('count', spark.range(10).count())\nspark.stop()\n";
      const client = KERNEL_CLIENT.replace(/'/g, `'\\''`);
      const r = await t.sh(H, `printf '%s' '${code.replace(/'/g, `'\\''`)}' | runuser -u jupyter -- /opt/jupyterlab/venv/bin/python -c '${client}' /var/lib/jupyterlab/.local/share/jupyter/runtime/kernel-${k.id}.json 2>&1`);
      console.log(`[jupyterlab] server kernel: ${r.stdout.trim().replace(/\n/g, '; ')}`);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('count 10\n');
      expect(r.stdout).toContain('status ok\n');
      expect(((await (await fetch(`${base()}/api/kernels/${k.id}`, { headers: auth })).json()) as { execution_state: string }).execution_state).toBe('idle');
      const { value: j } = await waitFor(masterJson, (x) => x.completedapps.some((a) => a.name === 'orch-server-kernel'), 30_000, 1000);
      expect(j.completedapps.find((a) => a.name === 'orch-server-kernel')?.state).toBe('FINISHED');
    } finally {
      await fetch(`${base()}/api/kernels/${k.id}`, { method: 'DELETE', headers: auth });
    }
  });

  it('a rerun changes nothing and reinstalls nothing; --check then says 0 changes', async () => {
    const tok = await token();
    const t0 = Date.now();
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    console.log(`[jupyterlab] rerun ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const venv = again.events.flatMap((e) => (e.type === 'op-result' && e.result.kind === 'python-venv' ? [e.result.reason] : []));
    expect(venv).toEqual([expect.stringMatching(/^90 pins installed/)]);
    expect(await token()).toBe(tok);
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('a changed setting restarts the server behind its health check after kernels ran; UI settings saved in the home', async () => {
    // the state that broke `jupyter execute` before the role wrote jupyter_core's marker: an IPython dir in the home
    expect(await t.on(H, 'test -d /var/lib/jupyterlab/.ipython && cat /etc/jupyterlab/migrated')).toMatch(/^# Managed by orch/);
    const since = async () => Number((await t.on(H, 'systemctl show -p ActiveEnterTimestampMonotonic --value jupyterlab')).trim());
    const before = await since();
    const { code, events } = await run({ vars: { jupyterlab_cull_idle_seconds: 1800 } });
    if (failures(events).length) console.log(`[jupyterlab] journal:\n${(await t.sh(H, 'journalctl -u jupyterlab --no-pager -n 40 | cut -c1-300')).stdout}`);
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health '))).toEqual([`${H} file /etc/jupyterlab/jupyter_server_config.py`]);
    expect(handlers(events)).toEqual([`${H} restart jupyterlab`, `${H} health jupyterlab`]);
    expect(await since()).toBeGreaterThan(before);
    expect(await t.on(H, 'systemctl show -p NRestarts --value jupyterlab; grep cull_idle_timeout /etc/jupyterlab/jupyter_server_config.py')).toBe('0\nc.MappingKernelManager.cull_idle_timeout = 1800\n');
    const tok = await token();
    const auth = { Authorization: `token ${tok}`, 'Content-Type': 'application/json' };
    expect((await fetch(`${base()}/api/status`, { headers: auth })).status).toBe(200);
    // a setting changed in the UI (the theme): saved under the user's home, not in the root-owned config dir
    const put = await fetch(`${base()}/lab/api/settings/@jupyterlab/apputils-extension:themes`, { method: 'PUT', headers: auth, body: JSON.stringify({ raw: '{"theme": "JupyterLab Dark"}' }) });
    expect(put.status).toBe(204);
    expect(await t.on(H, "stat -c '%U' /var/lib/jupyterlab/lab/user-settings/@jupyterlab/apputils-extension/themes.jupyterlab-settings")).toBe('jupyter\n');
    expect(changed((await run({ vars: { jupyterlab_cull_idle_seconds: 1800 } })).events)).toEqual([]);
  });
});
