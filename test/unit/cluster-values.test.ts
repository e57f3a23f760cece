import { describe, expect, it } from 'vitest';
import { resolveClusterValue, fingerprint, type ClusterValueSpec, type HostReading } from '../../src/role/cluster.js';

const spec: ClusterValueSpec = { name: 'kafka_cluster_id', doc: 'KRaft cluster id', group: 'kafka', override: 'kafka_cluster_id', pattern: /^[A-Za-z0-9_-]{22}$/ };
const ID = 'MkU3OEVBNTcwNTJENDM2Qg';
const ID2 = '-kU3OEVBNTcwNTJENDM2Qg';
const r = (host: string, read = '', stored = '', unreachable?: string): HostReading => ({ host, read, stored, unreachable });

describe('resolveClusterValue', () => {
  it('generates when no host has one, and every host needs the copy', () => {
    const res = resolveClusterValue(spec, [r('vm1'), r('vm2'), r('vm3')], undefined, () => ID2);
    expect(res).toEqual({ ok: true, value: ID2, source: 'generated', missing: ['vm1', 'vm2', 'vm3'], from: [] });
  });

  it('takes the one value found, from the configuration or the orch copy, and names the hosts lacking the copy', () => {
    const res = resolveClusterValue(spec, [r('vm1', ID, ID), r('vm2', '', ''), r('vm3', ID, '')], undefined, () => 'never');
    expect(res).toEqual({ ok: true, value: ID, source: 'hosts', missing: ['vm2', 'vm3'], from: ['vm1 (its configuration)', 'vm1 (the orch copy)', 'vm3 (its configuration)'] });
  });

  it('stops when hosts disagree, naming each host and value; secret values as fingerprints', () => {
    const res = resolveClusterValue(spec, [r('vm1', ID, ID), r('vm2', ID2, '')]);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.problem).toBe(
      `kafka_cluster_id: the hosts of group kafka disagree: vm1 (its configuration), vm1 (the orch copy): "${ID}"; vm2 (its configuration): "${ID2}". orch does not pick one: decide which is right, set kafka_cluster_id in the inventory or fix the other hosts`,
    );
    const secret = resolveClusterValue({ ...spec, secret: true }, [r('vm1', ID), r('vm2', ID2)]);
    expect(!secret.ok && secret.problem).toContain(fingerprint(ID));
    expect(!secret.ok && secret.problem).not.toContain(ID);
  });

  it('overrideReplaces: a credential rotated through the inventory replaces the hosts\' copies instead of being refused', () => {
    const pw: ClusterValueSpec = { name: 'minio_root_password', doc: 'root password', group: 'minio', secret: true, override: 'minio_root_password', overrideReplaces: true };
    expect(resolveClusterValue(pw, [r('m1', '', 'old-password-1'), r('m2', '', 'new-password-2')], 'new-password-2')).toEqual({ ok: true, value: 'new-password-2', source: 'inventory', missing: ['m1'], from: [] });
    // without the inventory's value the hosts' one is kept, never a new one generated
    expect(resolveClusterValue(pw, [r('m1', '', 'old-password-1')], undefined, () => 'generated-3')).toMatchObject({ ok: true, value: 'old-password-1', source: 'hosts' });
    // an identity (no overrideReplaces) stays refused
    expect(resolveClusterValue({ ...pw, overrideReplaces: false }, [r('m1', '', 'old-password-1')], 'new-password-2').ok).toBe(false);
  });

  it('the inventory value wins and must match what the hosts have', () => {
    expect(resolveClusterValue(spec, [r('vm1'), r('vm2', '', ID)], ID)).toMatchObject({ ok: true, value: ID, source: 'inventory', missing: ['vm1'] });
    const bad = resolveClusterValue(spec, [r('vm1', ID2)], ID);
    expect(!bad.ok && bad.problem).toMatch(/the inventory sets kafka_cluster_id to "MkU3.*" but vm1 \(its configuration\): "-kU3/);
    const shape = resolveClusterValue(spec, [], 'short');
    expect(!shape.ok && shape.problem).toMatch(/not a valid kafka_cluster_id/);
  });

  it('refuses to generate while a host that may hold the value cannot be asked; a found value is used', () => {
    const res = resolveClusterValue(spec, [r('vm1'), r('vm2', '', '', 'connection refused')]);
    expect(!res.ok && res.problem).toMatch(/no reachable host of group kafka has it, and vm2 \(connection refused\) could not be asked/);
    expect(resolveClusterValue(spec, [r('vm1', ID), r('vm2', '', '', 'connection refused')])).toMatchObject({ ok: true, value: ID, missing: ['vm1'] });
  });

  it('a malformed value read from a host is an error, not a value', () => {
    const res = resolveClusterValue(spec, [r('vm1', 'garbage value')]);
    expect(!res.ok && res.problem).toMatch(/host vm1 has "garbage value" \(read\), which is not a valid kafka_cluster_id/);
  });

  it('stop-minority: the hosts holding another value than a strict majority stop, showing both; the rest go on', () => {
    const kafka = { ...spec, conflicts: 'stop-minority' as const };
    const res = resolveClusterValue(kafka, [r('vm1', ID, ID), r('vm2', ID, ''), r('vm3', ID2, ID2)]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value).toBe(ID);
    expect(res.missing).toEqual(['vm2']);
    expect([...res.stopped!.keys()]).toEqual(['vm3']);
    expect(res.stopped!.get('vm3')).toBe(`kafka_cluster_id: vm3 has "${ID2}" but the cluster (3 hosts asked) has "${ID}": this host stops (its data belongs to another cluster: wipe it or fix kafka_cluster_id), the others go on`);
    // no strict majority: the run stops
    const tie = resolveClusterValue(kafka, [r('vm1', ID), r('vm2', ID2), r('vm3')]);
    expect(!tie.ok && tie.problem).toMatch(/disagree/);
    // the inventory decides for the minority too
    const inv = resolveClusterValue(kafka, [r('vm1', ID2), r('vm2', ID)], ID);
    expect(inv.ok && [...inv.stopped!.keys()]).toEqual(['vm1']);
  });
});
