/**
 * The etcd role on 3 simulated hosts with the real etcd (Debian bookworm's etcd-server/etcd-client 3.4.23, the
 * distribution's: `etcd_source: package`; the production default, the 3.5.16 release archive, is unit-tested):
 *   - `--check` on fresh hosts says exactly what the first run then changes;
 *   - the first run bootstraps one cluster: 3 members healthy (`etcdctl endpoint health`), one leader, the token a
 *     cluster value shared by the 3 hosts; a second run and a `--check` change nothing;
 *   - a member whose data dir was wiped is not allowed to bootstrap a second cluster: the rerun removes and re-adds
 *     it, it joins with initial-cluster-state existing and gets the data back; same cluster id, one leader;
 *   - a config change restarts the members one at a time behind the health check, the leader last.
 */
import { describe, expect, it } from 'vitest';
import { changed, failures, handlers, useRoleTest } from '../helpers/role-test.js';

// not e1..e3: the YAML 1.1 parser reads `e1` as a float (NaN)
const HOSTS = ['etcd1', 'etcd2', 'etcd3'];
const t = useRoleTest({
  name: 'etcd',
  hosts: HOSTS.map((name) => ({ name, groups: ['etcd'] })),
  inventoryVars: { etcd_source: 'package' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'coordination', hosts: 'etcd', roles: ['etcd'] },
  ],
});
const { run, on } = t;
const ctl = (args: string) => `ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 ${args}`;
const fields = (out: string, key: string) => [...out.matchAll(new RegExp(`^"${key}" : (.*)$`, 'gm'))].map((m) => m[1]);

/** the cluster as every member sees it: member id, leader and cluster id per host */
async function status() {
  const out = await Promise.all(HOSTS.map((h) => on(h, ctl('endpoint status -w fields'))));
  return out.map((o, i) => ({ host: HOSTS[i], member: fields(o, 'MemberID')[0], leader: fields(o, 'Leader')[0], cluster: fields(o, 'ClusterID')[0] }));
}

describe('etcd: 3 members from the Debian package', () => {
  let clusterId = '';
  let predicted: string[] = [];

  it('--check on fresh hosts changes nothing and lists what the first run will do', async () => {
    const { code, events } = await run({ check: true });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    predicted = changed(events);
    for (const h of HOSTS) {
      expect(predicted).toContain(`${h} packages etcd-server, etcd-client`);
      expect(predicted).toContain(`${h} file /etc/default/etcd`);
    }
    expect(await on('etcd1', 'command -v etcd || echo none')).toBe('none\n');
  });

  it('the first run bootstraps one cluster: 3 healthy members, one leader, the same token on every host; exactly as --check said', async () => {
    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events).sort()).toEqual([...predicted].sort());

    const health = await on('etcd1', 'ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 endpoint health --cluster 2>&1');
    expect(health.match(/is healthy/g)).toHaveLength(3);
    const st = await status();
    expect(new Set(st.map((s) => s.cluster)).size).toBe(1);
    expect(new Set(st.map((s) => s.leader)).size).toBe(1);
    expect(st.filter((s) => s.member === s.leader)).toHaveLength(1);
    clusterId = st[0].cluster;
    const list = await on('etcd2', ctl('member list'));
    expect(list.trim().split('\n').map((l) => l.split(', ').slice(1, 3).join(' ')).sort()).toEqual(['started etcd1', 'started etcd2', 'started etcd3']);
    expect(await on('etcd1', ctl('version'))).toMatch(/etcdctl version: 3\.4\./);

    const tokens = await Promise.all(HOSTS.map((h) => on(h, "sed -n 's/^ETCD_INITIAL_CLUSTER_TOKEN=//p' /etc/default/etcd; cat /var/lib/orch/values/etcd_initial_cluster_token")));
    expect(tokens[0]).toMatch(/^(etcd-[0-9a-f]{24})\n\1\n$/);
    expect(new Set(tokens).size).toBe(1);
    // the package did not start its own one-member cluster: the data dir is ours, the unit is ours
    expect(await on('etcd3', 'ls /var/lib/etcd; systemctl show -p FragmentPath --value etcd; stat -c %U:%a /var/lib/etcd')).toBe('member\n/etc/systemd/system/etcd.service\netcd:700\n');
    await on('etcd1', ctl('put orch-test kept-across-the-rejoin'));
  });

  it('a second run and a --check change nothing', async () => {
    const again = await run();
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    expect(changed(check.events)).toEqual([]);
    expect(handlers(check.events)).toEqual([]);
  });

  it('a member whose data was wiped is removed and re-added: it joins the same cluster, no second one', async () => {
    const before = await status();
    const oldId = before.find((s) => s.host === 'etcd3')!.member;
    await on('etcd3', 'systemctl stop etcd && rm -rf /var/lib/etcd/member');

    const REJOIN = 'etcd3 command etcd: etcd3 has no data in /var/lib/etcd: join the existing cluster if the other members answer, else bootstrap it';
    const check = await run({ check: true });
    expect(check.code).toBe(0);
    const predicted = changed(check.events);
    expect(predicted).toEqual([REJOIN, 'etcd3 service etcd.service', 'etcd3 waitForPort 127.0.0.1:2379', 'etcd3 command etcd: this member is healthy (etcdctl endpoint health)']);

    const { code, events } = await run();
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    expect(changed(events)).toEqual(predicted);

    const after = await status();
    expect(after.map((s) => s.cluster)).toEqual(HOSTS.map(() => clusterId));
    expect(new Set(after.map((s) => s.leader)).size).toBe(1);
    expect(after.filter((s) => s.member === s.leader)).toHaveLength(1);
    expect(after.find((s) => s.host === 'etcd3')!.member).not.toBe(oldId); // a new member in the old cluster
    const list = await on('etcd1', ctl('member list'));
    expect(list.trim().split('\n')).toHaveLength(3);
    expect(list).not.toContain(BigInt(oldId).toString(16));
    expect(list).not.toContain('unstarted');
    // the data came back from the others, read from etcd3's own member
    expect(await on('etcd3', `ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 get orch-test --print-value-only --consistency=s`)).toBe('kept-across-the-rejoin\n');
    expect(await on('etcd3', 'cat /run/orch-etcd-rejoin.env')).toContain('ETCD_INITIAL_CLUSTER_STATE=existing');

    const again = await run();
    expect(again.code).toBe(0);
    expect(changed(again.events)).toEqual([]);
  });

  it('a config change restarts one member at a time behind the health check, the leader last', async () => {
    const pids = async () => Promise.all(HOSTS.map((h) => on(h, 'systemctl show -p MainPID --value etcd')));
    const before = await pids();
    const leader = (await status()).find((s) => s.member === s.leader)!.host;
    const { code, events } = await run({ vars: { etcd_heartbeat_interval: 150, etcd_election_timeout: 1500 } });
    expect(failures(events)).toEqual([]);
    expect(code).toBe(0);
    // hosts in the order their restarts were reported (a host may report more than one handler event)
    const restarted = [...new Set(handlers(events).map((r) => r.split(' ')[0]))];
    expect([...restarted].sort()).toEqual([...HOSTS].sort());
    expect(restarted[restarted.length - 1]).toBe(leader);
    const after = await pids();
    after.forEach((p, i) => expect(p).not.toBe(before[i]));
    const st = await status();
    expect(st.map((s) => s.cluster)).toEqual(HOSTS.map(() => clusterId));
    expect(await on('etcd2', "sed -n 's/^ETCD_HEARTBEAT_INTERVAL=//p' /etc/default/etcd")).toBe('150\n');
  });
});
