/**
 * The flink role with JobManager HA through ZooKeeper (datalyptica-enterprise-50vm.md's active/standby JobManagers),
 * on two simulated hosts: a JobManager on each, a TaskManager on h2, ZooKeeper (Debian's package, the zookeeper role)
 * on h1. Real Flink 1.20.0 as in role-flink.test.ts, memory shrunk for the small hosts. Nothing is submitted (the HA
 * storage dir is local to each host here; a real cluster puts it on a shared file system, the seed's S3):
 *   - both JobManagers' REST APIs list the TaskManager with its slots; exactly one JobManager leads;
 *   - the leader stopped, the standby takes over and the TaskManager registers with it (the test prints the time);
 *   - a run then starts the stopped JobManager again (as standby), and a rerun changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { useArtifactMirror } from '../helpers/artifact-mirror.js';
import { FLINK_SMALL } from '../helpers/sim-sizes.js';
import { changed, failures, useRoleTest, waitFor } from '../helpers/role-test.js';

const art = useArtifactMirror([{ service: 'flink', version: '1.20.0' }]);
const t = useRoleTest({
  name: 'flink-ha',
  hosts: [
    { name: 'h1', groups: ['flink_jobmanager', 'zookeeper'], memoryMb: 2048, vars: { node_id: 1 } },
    { name: 'h2', groups: ['flink_jobmanager', 'flink_taskmanager'], memoryMb: 2048 },
  ],
  // in the inventory (not extra vars): the plan of every command on a host validates the two JobManagers too
  inventoryVars: { zookeeper_source: 'package', zookeeper_heap: '128m', flink_ha: 'zookeeper' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common', 'java'] },
    { name: 'coordination', hosts: 'zookeeper', roles: ['zookeeper'] },
    { name: 'processing', hosts: 'flink_jobmanager:flink_taskmanager', roles: ['flink'] },
  ],
});

const run = () => t.run({ vars: { artifact_mirror: art.url, flink_sha512: art.sha512('flink'), ...FLINK_SMALL } });
const addr = (h: string) => t.sim.host(h).address;
const tmOn = async (h: string) => (await t.sh(h, `curl -sf --max-time 5 http://${addr(h)}:8081/taskmanagers/h2-taskmanager-1`)).stdout;
// the JobManager whose log says it was granted leadership (the dispatcher runner's), in this process's lifetime
const leads = async (h: string) => (await t.sh(h, 'journalctl -o cat -u flink-jobmanager _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value flink-jobmanager) | grep -c "DefaultDispatcherRunner was granted leadership" || true')).stdout.trim() !== '0';

describe('flink: JobManager HA through ZooKeeper (active + standby)', () => {
  let leader = '';
  it("both JobManagers' REST APIs list the TaskManager with its 3 slots; exactly one leads", async () => {
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    for (const h of ['h1', 'h2']) {
      expect(await tmOn(h)).toContain('"slotsNumber":3');
      const cfg = await t.on(h, 'cat /etc/flink/conf/config.yaml');
      expect(cfg).toContain('high-availability.type: zookeeper\n');
      expect(cfg).toContain(`high-availability.zookeeper.quorum: ${addr('h1')}:2181\n`);
      expect(cfg).toContain(`jobmanager.rpc.address: ${addr(h)}\n`);
    }
    const l = await Promise.all(['h1', 'h2'].map(leads));
    expect(l.filter(Boolean)).toHaveLength(1);
    leader = l[0] ? 'h1' : 'h2';
  });

  it('the leader stopped, the standby takes over and the TaskManager registers with it', async () => {
    const standby = leader === 'h1' ? 'h2' : 'h1';
    const t0 = Date.now();
    await t.on(leader, 'systemctl stop flink-jobmanager');
    const took = await waitFor(async () => (await leads(standby)) && (await tmOn(standby)).includes('"slotsNumber":3'), (ok) => ok, 120_000, 1000);
    expect(took.value).toBe(true);
    console.log(`[flink-ha] ${leader} stopped; ${standby} leads and lists the TaskManager ${((Date.now() - t0) / 1000).toFixed(1)} s later`);
  });

  it('a run starts the stopped JobManager again (standby now); a rerun changes nothing', async () => {
    const again = await run();
    expect(failures(again.events)).toEqual([]);
    expect(changed(again.events).filter((c) => !c.includes(' health ') && !c.includes('waitForHttp'))).toEqual([`${leader} service flink-jobmanager.service`]);
    expect(await tmOn(leader)).toContain('"slotsNumber":3');
    expect(changed((await run()).events)).toEqual([]);
  });
});
