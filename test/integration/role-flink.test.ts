/**
 * The flink role on one simulated host laid out as flink-kafka-4vcpu-8gb.md's: a JobManager and 2 TaskManagers of 3
 * slots each (instances flink-taskmanager@1, @2), parallelism 6. Real Flink 1.20.0 (assembled from PyPI's PyFlink
 * sdists + WordCount from Maven Central by src/sim/artifacts, served as artifact_mirror), OpenJDK 17 from Debian.
 * The simulated host is small, so the memory sizes are shrunk by extra vars (the seed's are the defaults):
 *   - `--check` on the fresh host says exactly what the first run changes;
 *   - the REST API lists both TaskManagers with 3 slots (6 in /overview) and their memory as configured (and as the
 *     role's arithmetic predicts);
 *   - Flink's WordCount, submitted with bin/flink run, runs to FINISHED with parallelism 6;
 *   - a rerun and a `--check` change nothing;
 *   - a changed TaskManager setting restarts the two TaskManagers, one after the other, and not the JobManager.
 */
import { describe, expect, it } from 'vitest';
import { taskManagerMemory } from '../../roles/flink/render.js';
import type { FlinkVars } from '../../roles/flink/render.js';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { FLINK_SMALL } from '../helpers/sim-sizes.js';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

const H = 'fl';
const art = useArtifactMirror([{ service: 'flink', version: '1.20.0' }]);
const t = useRoleTest({
  name: 'flink',
  hosts: [{ name: H, groups: ['flink_jobmanager', 'flink_taskmanager'], memoryMb: 3072, vars: { flink_taskmanager_instances: 2 } }],
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'processing', hosts: 'flink_jobmanager:flink_taskmanager', roles: ['flink'] },
  ],
});

const run = (o: { check?: boolean; vars?: Record<string, unknown> } = {}) =>
  t.run({ check: o.check, vars: { artifact_mirror: art.url, flink_sha512: art.sha512('flink'), ...FLINK_SMALL, ...o.vars } });
const rest = async (path: string) => JSON.parse(await t.on(H, `curl -sf http://${t.sim.host(H).address}:8081${path}`));
const since = async (unit: string) => Number((await t.on(H, `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`)).trim());
const MB = 1024 ** 2;

describe('flink: JobManager + 2 TaskManagers of 3 slots on one host (flink-kafka-4vcpu-8gb)', () => {
  let predicted: string[] = [];

  it('--check on the fresh host lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const p of ['file /etc/flink/conf/config.yaml', 'file /etc/flink/taskmanager/config.yaml', 'unit /etc/systemd/system/flink-jobmanager.service', 'instance /etc/systemd/system/flink-taskmanager@2.service.d/orch-instance.conf']) {
      expect(predicted).toContain(`${H} ${p}`);
    }
  });

  it('exactly as --check said; the REST API lists both TaskManagers with 3 slots (6 in all) and their memory as configured', async () => {
    const t0 = Date.now();
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());
    console.log(`[flink] first run ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const overview = await rest('/overview');
    expect(overview).toMatchObject({ taskmanagers: 2, 'slots-total': 6, 'flink-version': '1.20.0' });
    const ids = (await rest('/taskmanagers')).taskmanagers.map((x: { id: string; slotsNumber: number }) => [x.id, x.slotsNumber]).sort();
    expect(ids).toEqual([[`${H}-taskmanager-1`, 3], [`${H}-taskmanager-2`, 3]]);
    // the TaskManager memory Flink derived, as the role's own arithmetic predicts it
    const want = taskManagerMemory(FLINK_SMALL as unknown as FlinkVars).memory;
    for (const id of [1, 2]) {
      const m = (await rest(`/taskmanagers/${H}-taskmanager-${id}`)).memoryConfiguration;
      expect(m).toMatchObject({ totalProcessMemory: 768 * MB, frameworkHeap: 64 * MB, managedMemory: 64 * MB, jvmMetaspace: 128 * MB, frameworkOffHeap: 128 * MB });
      expect(Math.abs(m.taskHeap - want.taskHeap)).toBeLessThan(2);
      expect(Math.abs(m.networkMemory - want.network)).toBeLessThan(2);
      expect(Math.abs(m.jvmOverhead - want.overhead)).toBeLessThan(2);
      if (id === 1) console.log(`[flink] taskmanager memory from REST: ${JSON.stringify(m)}`);
    }
    // processes: user flink; the JobManager's heap as configured; each TaskManager its own ports
    const ps = await t.on(H, "ps -o user=,args= -C java | sed -E 's/ -classpath [^ ]+//'");
    expect(ps.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(['flink', 'flink', 'flink']);
    expect(ps).toMatch(/-Xmx335544320 .*StandaloneSessionClusterEntrypoint/);
    expect(ps).toContain('-Dtaskmanager.rpc.port=6132');
    expect(await t.on(H, 'cat /etc/flink/conf/config.yaml')).toContain('parallelism.default: 6\n');
    expect(await t.on(H, 'systemctl show -p LimitNOFILE --value flink-taskmanager@1')).toBe('65536\n');
  });

  it("Flink's WordCount submitted with bin/flink run runs to FINISHED with parallelism 6 on both TaskManagers", async () => {
    const t0 = Date.now();
    // streaming mode (WordCount's default): parallelism.default 6 applies (a BATCH job's parallelism is sized to its tiny input)
    const out = await t.on(H, 'cd /tmp && FLINK_CONF_DIR=/etc/flink/conf JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 /opt/flink/current/bin/flink run /opt/flink/current/examples/streaming/WordCount.jar 2>&1');
    const jobId = /JobID ([0-9a-f]{32})/.exec(out)?.[1];
    expect(jobId, out).toBeDefined();
    expect(out).toContain(`Job with JobID ${jobId} has finished.`);
    const job = await rest(`/jobs/${jobId}`);
    expect(job.state).toBe('FINISHED');
    expect(Math.max(...job.vertices.map((x: { parallelism: number }) => x.parallelism))).toBe(6);
    // its print sink writes to the TaskManagers' stdout, i.e. their journal: the subtasks ran on both
    const printed = await t.on(H, `journalctl -o cat -u flink-taskmanager@1 -u flink-taskmanager@2 --since "@${Math.floor(t0 / 1000) - 5}" | grep -E '^[0-9]+> \\(be,[0-9]+\\)$' || true`);
    expect(printed).toMatch(/^\d+> \(be,\d+\)$/m);
    const lines = await Promise.all([1, 2].map(async (i) => Number((await t.on(H, `journalctl -o cat -u flink-taskmanager@${i} --since "@${Math.floor(t0 / 1000) - 5}" | grep -cE '^[0-9]+> \\(' || true`)).trim())));
    expect(lines.every((n) => n > 0), `printed lines per TaskManager: ${lines}`).toBe(true);
    console.log(`[flink] WordCount ${jobId} FINISHED in ${((Date.now() - t0) / 1000).toFixed(1)} s (client included), parallelism 6 over both TaskManagers`);
  });

  it('a rerun and a --check change nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
    expect(handlers(check.events)).toEqual([]);
  });

  it('a changed TaskManager setting restarts the TaskManagers one after the other, not the JobManager', async () => {
    const jm0 = await since('flink-jobmanager');
    const [a0, b0] = [await since('flink-taskmanager@1'), await since('flink-taskmanager@2')];
    const vars = { flink_taskmanager_memory_managed_size: '96m' };
    const check = await run({ check: true, vars });
    expect(changed(check.events).filter((c) => !c.includes(' health '))).toEqual([`${H} file /etc/flink/taskmanager/config.yaml`]);
    expect(handlers(check.events).filter((h) => h.includes('restart'))).toEqual([`${H} restart flink-taskmanager@1`, `${H} restart flink-taskmanager@2`]);
    const { code, events } = await run({ vars });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health '))).toEqual([`${H} file /etc/flink/taskmanager/config.yaml`]);
    expect(handlers(events).filter((h) => h.includes('restart'))).toEqual([`${H} restart flink-taskmanager@1`, `${H} restart flink-taskmanager@2`]);
    expect(await since('flink-jobmanager')).toBe(jm0);
    const [a1, b1] = [await since('flink-taskmanager@1'), await since('flink-taskmanager@2')];
    expect(a1).toBeGreaterThan(a0);
    expect(b1).toBeGreaterThan(b0);
    // @2 was stopped only after @1 had registered again (ExecStartPost): its restart began after @1 was active
    const b1Stopped = Number((await t.on(H, 'systemctl show -p InactiveEnterTimestampMonotonic --value flink-taskmanager@2')).trim());
    expect(b1Stopped).toBeGreaterThan(a1);
    console.log(`[flink] TaskManager restarts: @1 active at +0 s, @2 stopped at +${((b1Stopped - a1) / 1e6).toFixed(1)} s, active at +${((b1 - a1) / 1e6).toFixed(1)} s; ${handlers(events).filter((h) => h.includes('health')).join(', ')}`);
    for (const id of [1, 2]) expect((await rest(`/taskmanagers/${H}-taskmanager-${id}`)).memoryConfiguration.managedMemory).toBe(96 * MB);
    expect((await rest('/overview'))['slots-total']).toBe(6);
    expect(changed((await run({ vars })).events)).toEqual([]);
  });

  it('one TaskManager fewer: instance 2 is stopped, disabled and its drop-in deleted; the JobManager lists 3 slots', async () => {
    const vars = { flink_taskmanager_memory_managed_size: '96m', flink_taskmanager_instances: 1 };
    const { code, events } = await run({ vars });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).filter((c) => !c.includes(' health '))).toEqual([`${H} instances flink-taskmanager@*`]);
    expect((await t.sh(H, 'systemctl is-active flink-taskmanager@2')).stdout.trim()).not.toBe('active');
    expect(await t.on(H, 'ls /etc/systemd/system | grep -c flink-taskmanager@2 || true')).toBe('0\n');
    expect(await rest('/overview')).toMatchObject({ taskmanagers: 1, 'slots-total': 3 });
    expect(changed((await run({ vars })).events)).toEqual([]);
  });
});
