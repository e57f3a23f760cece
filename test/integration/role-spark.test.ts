/**
 * spark on 3 simulated hosts, real Spark 3.5.0 (spark-kafka-cluster-aws.md's version: its jars and scripts from PyPI's
 * pyspark sdist, assembled in the release's layout by src/sim/artifacts and served as artifact_mirror), the
 * S3A jars from Maven Central (on m1), OpenJDK 17 and python3 from Debian:
 *   - spark-kafka-cluster-aws's layout: master m1, workers w1 and w2 of 2 cores / 4g: `--check` on fresh hosts says
 *     exactly what the first run changes; both workers ALIVE in the master's /json with 2 cores / 4096 MB;
 *   - a real job: the release's examples/src/main/python/pi.py through spark-submit to spark://m1:7077, its executors
 *     on the workers, FINISHED in the master's JSON, its event log in /var/spark-events, listed by the history server;
 *   - a rerun and a `--check` change nothing;
 *   - two workers on w2 (minimal-5vm's VM5): the second, spark-worker@2, on web UI 8082 in /opt/spark/work-2, both
 *     ALIVE; a changed instance setting restarts only that instance; removing it leaves no unit behind;
 *   - a changed worker setting for every worker rolls one host at a time, each back ALIVE before the next.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, useSimHosts } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['m1', 'w1', 'w2'];
const sim = useSimHosts({
  name: 'spark',
  hosts: [
    { name: 'm1', groups: ['spark_master'], memoryMb: 1536 },
    { name: 'w1', groups: ['spark_worker'], memoryMb: 2048 },
    { name: 'w2', groups: ['spark_worker'], memoryMb: 2560 },
  ],
});
const runs = useRuns();
const work = mkdtempSync(join(tmpdir(), 'orch-spark-'));
const inventory = (w2: Record<string, unknown> = {}) =>
  writeFileSync(
    join(work, 'hosts.yml'),
    // the S3A jars (280 MB of AWS SDK) are installed and checked on m1 alone, to keep the uploads short
    `all:\n  children:\n    spark_master:\n      hosts:\n        m1: { spark_history_server: true }\n    spark_worker:\n      hosts:\n        w1: { spark_s3a: false }\n        w2: ${JSON.stringify({ spark_s3a: false, ...w2 })}\n`,
  );
inventory();
writeFileSync(join(work, 'site.yml'), '- name: os\n  hosts: all\n  roles: [common, java]\n- name: processing\n  hosts: spark_master:spark_worker\n  roles: [spark]\n');
const art = useArtifactMirror([{ service: 'spark', version: '3.5.0' }]);

async function plan(vars: Record<string, unknown> = {}): Promise<RunPlan> {
  // small daemons and executors: the simulated hosts have 1.5-2.5 GB; the workers still offer the seed's 2 cores / 4g
  const values = { artifact_mirror: art.url, spark_version: '3.5.0', spark_sha512: art.sha512('spark'), spark_daemon_memory: '256m', spark_driver_memory: '512m', spark_executor_memory: '512m', ...vars };
  return buildPlan({
    inventory: loadInventory(work, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(work, 'site.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'extra vars', values, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}, check = false) => runs.run(await plan(vars), { check });

async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(`. /etc/profile.d/orch-spark.sh\n${cmd}`);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const addr = (h: string) => sim.host(h).address;
const changed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : []));
const failed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'host-failed' ? [`${e.host}: ${e.error}`] : []));

interface WorkerJson {
  id: string;
  host: string;
  webuiaddress: string;
  cores: number;
  memory: number;
  state: string;
}
interface MasterJson {
  url: string;
  status: string;
  workers: WorkerJson[];
  aliveworkers: number;
  completedapps: Array<{ id: string; name: string; state: string; cores: number; duration: number }>;
}
const masterJson = async () => JSON.parse(await on('m1', `curl -fsS http://${addr('m1')}:8080/json/`)) as MasterJson;
const alive = (j: MasterJson) => j.workers.filter((w) => w.state === 'ALIVE').map((w) => `${w.webuiaddress} ${w.cores} ${w.memory}`).sort();
const since = (host: string, unit: string) => on(host, `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`).then((s) => Number(s.trim()));

describe('spark: a standalone master and two workers (spark-kafka-cluster-aws.md)', () => {
  let predicted: string[] = [];

  it('--check on fresh hosts lists what the first run will do', async () => {
    const { code, events } = await run({}, true);
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of HOSTS) {
      expect(predicted).toContain(`${h} artifact /opt/spark/releases/3.5.0`);
      expect(predicted).toContain(`${h} file /opt/spark/conf/spark-env.sh`);
    }
    expect(predicted).toContain('m1 artifact /opt/spark/releases/3.5.0/jars/hadoop-aws-3.3.4.jar');
    expect(predicted).toContain('m1 artifact /opt/spark/releases/3.5.0/jars/aws-java-sdk-bundle-1.12.262.jar');
    expect(predicted).toContain('m1 unit /etc/systemd/system/spark-master.service');
    expect(predicted).toContain('m1 unit /etc/systemd/system/spark-history-server.service');
    expect(predicted).toContain('w1 unit /etc/systemd/system/spark-worker@.service');
    expect(predicted).not.toContain('m1 unit /etc/systemd/system/spark-worker@.service');
  });

  it('brings up the master and both workers ALIVE with 2 cores / 4g, exactly as --check said', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const phases = events.flatMap((e) => (e.type === 'phase-end' ? [`${e.phase} ${(e.elapsedMs / 1000).toFixed(1)} s`] : []));
    console.log(`[spark] first run ${((Date.now() - t0) / 1000).toFixed(1)} s (${phases.join(', ')})`);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    const j = await masterJson();
    expect(j.status).toBe('ALIVE');
    expect(j.url).toBe(`spark://${addr('m1')}:7077`);
    expect(alive(j)).toEqual([`http://${addr('w1')}:8081 2 4096`, `http://${addr('w2')}:8081 2 4096`].sort());
    // the seed's user, dirs and files
    expect(await on('w1', 'ps -o user= -C java | sort -u; stat -c %U /opt/spark/work; readlink /opt/spark/current')).toBe('spark\nspark\n/opt/spark/releases/3.5.0\n');
    const env = await on('m1', 'cat /opt/spark/conf/spark-env.sh');
    expect(env).toContain(`export SPARK_MASTER_HOST="${addr('m1')}"\nexport SPARK_MASTER_PORT=7077\nexport SPARK_MASTER_WEBUI_PORT=8080\n`);
    expect(await on('w2', 'cat /opt/spark/conf/spark-defaults.conf')).toContain(`spark.master spark://${addr('m1')}:7077\n`);
    expect(await on('m1', 'cat /opt/spark/conf/spark-defaults.conf')).toContain('spark.hadoop.fs.s3a.impl org.apache.hadoop.fs.s3a.S3AFileSystem\n');
    expect(await on('m1', 'sha256sum /opt/spark/current/jars/hadoop-aws-3.3.4.jar /opt/spark/current/jars/aws-java-sdk-bundle-1.12.262.jar | cut -c1-16')).toBe('53f9ae03c681a30a\n873fe7cf49512661\n');
  });

  it('runs a real job: the release\'s pi.py through spark-submit, on the workers, FINISHED at the master', async () => {
    const t0 = Date.now();
    const out = await on('m1', `spark-submit --master spark://${addr('m1')}:7077 /opt/spark/current/examples/src/main/python/pi.py 8 2>/tmp/pi.err || { tail -40 /tmp/pi.err; exit 1; }`);
    console.log(`[spark] pi.py: ${out.trim()} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    expect(out).toMatch(/Pi is roughly 3\.1\d*/);
    const j = await masterJson();
    const app = j.completedapps.find((a) => a.name === 'PythonPi'); // pi.py names its application
    expect(app?.state).toBe('FINISHED');
    // its executors ran on both workers (each worker's work dir has the application's directory)
    for (const h of ['w1', 'w2']) expect((await on(h, `ls /opt/spark/work`)).trim()).toContain(app!.id);
    expect((await on('m1', 'ls /var/spark-events')).trim()).toContain(app!.id);
    // the history server on m1 (it scans the event log directory every 10 s) lists it, completed (it may first list
    // the log still in progress)
    type Listed = Array<{ id: string; name: string; attempts: Array<{ completed: boolean }> }>;
    let h: Listed[number] | undefined;
    for (let i = 0; i < 45 && !h?.attempts[0]?.completed; i++) {
      h = (JSON.parse(await on('m1', `curl -fsS http://${addr('m1')}:18080/api/v1/applications`)) as Listed).find((a) => a.id === app!.id);
      if (!h?.attempts[0]?.completed) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(h).toMatchObject({ name: 'PythonPi', attempts: [{ completed: true }] });
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await run();
    expect(failed(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run({}, true);
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
  });

  it('two workers on w2: spark-worker@2 on 8082 in its own dir; a change to it restarts only it; removing it leaves nothing', async () => {
    inventory({ spark_worker_instances: 2 });
    const w1Before = await since('w1', 'spark-worker@1');
    const one = await since('w2', 'spark-worker@1');
    const { code, events } = await run();
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    expect(alive(await masterJson())).toEqual([`http://${addr('w1')}:8081 2 4096`, `http://${addr('w2')}:8081 2 4096`, `http://${addr('w2')}:8082 2 4096`].sort());
    expect(await on('w2', 'cat /etc/systemd/system/spark-worker@2.service.d/orch-instance.conf')).toContain('Environment="SPARK_WORKER_DIR=/opt/spark/work-2"');
    expect(await on('w2', 'stat -c %U /opt/spark/work-2')).toBe('spark\n');
    // the first instance and the other host were not restarted
    expect(await since('w2', 'spark-worker@1')).toBe(one);
    expect(await since('w1', 'spark-worker@1')).toBe(w1Before);

    inventory({ spark_worker_instances: 1 });
    const removed = await run();
    expect(failed(removed.events)).toEqual([]);
    expect(removed.code).toBe(0);
    expect(changed(removed.events)).toContain('w2 instances spark-worker@*');
    expect(await on('w2', 'ls /etc/systemd/system | grep -c spark-worker@2 || true; systemctl list-units --all --plain --no-legend "spark-worker@2*" | wc -l')).toBe('0\n0\n');
    expect(alive(await masterJson())).toEqual([`http://${addr('w1')}:8081 2 4096`, `http://${addr('w2')}:8081 2 4096`].sort());
    expect(await since('w2', 'spark-worker@1')).toBe(one);
    expect(changed((await run()).events)).toEqual([]);
  });

  it('a changed worker setting rolls one worker host at a time, each ALIVE again before the next', async () => {
    const t0 = { w1: await since('w1', 'spark-worker@1'), w2: await since('w2', 'spark-worker@1'), m1: await since('m1', 'spark-master') };
    const { code, events } = await run({ spark_worker_cores: 1 });
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const t1 = { w1: await since('w1', 'spark-worker@1'), w2: await since('w2', 'spark-worker@1'), m1: await since('m1', 'spark-master') };
    expect(t1.w1).toBeGreaterThan(t0.w1);
    expect(t1.w2).toBeGreaterThan(t0.w2);
    expect(t1.m1).toBe(t0.m1); // the master's settings did not change: not restarted
    const health = events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health spark');
    expect(health.map((e) => e.host).sort()).toEqual(['w1', 'w2']);
    expect(health.every((e) => e.status === 'ok')).toBe(true);
    console.log(`[spark] rolling restart: ${health.map((e) => `${e.host}: ${e.reason}`).join('; ')}; second host restarted ${(Math.abs(t1.w2 - t1.w1) / 1e6).toFixed(1)} s after the first`);
    expect(Math.abs(t1.w2 - t1.w1)).toBeGreaterThan(2e6);
    expect(alive(await masterJson())).toEqual([`http://${addr('w1')}:8081 1 4096`, `http://${addr('w2')}:8081 1 4096`].sort());
    expect(changed((await run({ spark_worker_cores: 1 })).events)).toEqual([]);
  });
});
