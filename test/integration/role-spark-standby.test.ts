/**
 * spark with a standby master (datalyptica-enterprise-50vm.md's active-standby masters) on 3 simulated hosts: masters
 * m1 and m2 in ZOOKEEPER recovery mode (ZooKeeper from Debian's package, the zookeeper role, on m1), worker w1; real
 * Spark 3.5.0 from PyPI's pyspark sdist (src/sim/artifacts), OpenJDK 17 from Debian:
 *   - one master ALIVE, the other STANDBY; the worker registered ALIVE at the active one, given both masters;
 *   - the active master stopped: the standby takes over and the worker re-registers with it (the time is printed);
 *     a rerun starts the stopped master again, as the standby now;
 *   - a changed daemon setting rolls host by host, the active master last; a rerun then changes nothing.
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

const sim = useSimHosts({
  name: 'spark-standby',
  hosts: [
    { name: 'm1', groups: ['spark_master', 'zookeeper'], memoryMb: 1536 },
    { name: 'm2', groups: ['spark_master'], memoryMb: 1024 },
    { name: 'w1', groups: ['spark_worker'], memoryMb: 1536 },
  ],
});
const runs = useRuns();
const work = mkdtempSync(join(tmpdir(), 'orch-spark-standby-'));
writeFileSync(
  join(work, 'hosts.yml'),
  [
    'all:',
    '  vars:',
    '    zookeeper_source: package',
    '    zookeeper_heap: 128m',
    '    spark_recovery_mode: ZOOKEEPER',
    '  children:',
    '    zookeeper:',
    '      hosts:',
    '        m1: {}',
    '    spark_master:',
    '      hosts:',
    '        m1: {}',
    '        m2: {}',
    '    spark_worker:',
    '      hosts:',
    '        w1: {}',
    '',
  ].join('\n'),
);
writeFileSync(
  join(work, 'site.yml'),
  '- name: os\n  hosts: all\n  roles: [common, java]\n- name: coordination\n  hosts: zookeeper\n  roles: [zookeeper]\n- name: processing\n  hosts: spark_master:spark_worker\n  roles: [spark]\n',
);
const art = useArtifactMirror([{ service: 'spark', version: '3.5.0' }]);

async function plan(vars: Record<string, unknown> = {}): Promise<RunPlan> {
  const values = { artifact_mirror: art.url, spark_version: '3.5.0', spark_sha512: art.sha512('spark'), spark_daemon_memory: '256m', spark_s3a: false, spark_python: false, ...vars };
  return buildPlan({
    inventory: loadInventory(work, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(join(work, 'site.yml')),
    registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
    extraVars: [{ label: 'extra vars', values, origins: {} }],
  });
}
const run = async (vars: Record<string, unknown> = {}) => runs.run(await plan(vars), {});
async function on(host: string, cmd: string): Promise<string> {
  const r = await (await runs.connector(await plan())(host)).runScript(cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const addr = (h: string) => sim.host(h).address;
const changed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : []));
const failed = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'host-failed' ? [`${e.host}: ${e.error}`] : []));
interface MasterJson {
  status: string;
  workers: Array<{ webuiaddress: string; state: string; cores: number; memory: number }>;
}
const state = async (m: string): Promise<MasterJson | undefined> => {
  const out = await on('w1', `curl -fsS --max-time 5 http://${addr(m)}:8080/json/ || true`);
  return out.trim() ? (JSON.parse(out) as MasterJson) : undefined;
};
const aliveWorkers = (j: MasterJson | undefined) => (j?.workers ?? []).filter((w) => w.state === 'ALIVE').map((w) => w.webuiaddress);
const since = (host: string) => on(host, 'systemctl show -p ActiveEnterTimestampMonotonic --value spark-master').then((s) => Number(s.trim()));

describe('spark: a standby master through ZooKeeper (datalyptica-enterprise-50vm.md)', () => {
  let active = '';
  let standby = '';

  it('one master ALIVE, the other STANDBY; the worker ALIVE at the active one', async () => {
    const { code, events } = await run();
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const [s1, s2] = [await state('m1'), await state('m2')];
    expect([s1?.status, s2?.status].sort()).toEqual(['ALIVE', 'STANDBY']);
    [active, standby] = s1?.status === 'ALIVE' ? ['m1', 'm2'] : ['m2', 'm1'];
    expect(aliveWorkers(active === 'm1' ? s1 : s2)).toEqual([`http://${addr('w1')}:8081`]);
    expect(await on('w1', 'cat /etc/systemd/system/spark-worker@.service')).toContain(`start-worker.sh spark://${addr('m1')}:7077,${addr('m2')}:7077`);
    expect(await on('m2', 'cat /opt/spark/conf/spark-env.sh')).toContain(`-Dspark.deploy.recoveryMode=ZOOKEEPER -Dspark.deploy.zookeeper.url=${addr('m1')}:2181 -Dspark.deploy.zookeeper.dir=/spark`);
  });

  it('the active master stopped: the standby takes over and the worker re-registers with it', async () => {
    const t0 = Date.now();
    await on(active, 'systemctl stop spark-master');
    let j: MasterJson | undefined;
    for (let i = 0; i < 60; i++) {
      j = await state(standby);
      if (j?.status === 'ALIVE' && aliveWorkers(j).length === 1) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const secs = (Date.now() - t0) / 1000;
    console.log(`[spark] ${active} stopped: ${standby} ALIVE with the worker re-registered after ${secs.toFixed(1)} s`);
    expect(j?.status).toBe('ALIVE');
    expect(aliveWorkers(j)).toEqual([`http://${addr('w1')}:8081`]);
    // a rerun starts the stopped master again: it is the standby now
    const again = await run();
    expect(failed(again.events)).toEqual([]);
    expect(changed(again.events)).toContain(`${active} service spark-master.service`);
    expect((await state(active))?.status).toBe('STANDBY');
    [active, standby] = [standby, active];
  });

  it('a changed daemon setting rolls host by host, the active master last; a rerun changes nothing', async () => {
    const { code, events } = await run({ spark_daemon_memory: '320m' });
    expect(failed(events)).toEqual([]);
    expect(code).toBe(0);
    const health = events.filter((e): e is Extract<RunEvent, { type: 'handler' }> => e.type === 'handler' && e.name === 'health spark');
    console.log(`[spark] rolling restart: ${health.map((e) => `${e.host}: ${e.reason}`).join('; ')}`);
    expect(health.map((e) => e.host)).toHaveLength(3);
    expect(health.every((e) => e.status === 'ok')).toBe(true);
    expect(health[2].host).toBe(active);
    expect(await since(active)).toBeGreaterThan(await since(standby));
    // restarting the active master last hands over to the standby: one of them is ALIVE with the worker again
    let workers: string[] = [];
    for (let i = 0; i < 60 && !workers.length; i++) {
      for (const m of [active, standby]) {
        const s = await state(m);
        if (s?.status === 'ALIVE') workers = aliveWorkers(s);
      }
      if (!workers.length) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(workers).toEqual([`http://${addr('w1')}:8081`]);
    expect(changed((await run({ spark_daemon_memory: '320m' })).events)).toEqual([]);
  });
});
