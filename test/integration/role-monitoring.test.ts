/**
 * node-exporter, prometheus, alertmanager on 3 simulated hosts, real Debian packages (Prometheus 2.42,
 * Alertmanager 0.25, node exporter 1.5, etcd 3.4): Prometheus on m1, Alertmanager and a one-member etcd on m2, node
 * exporters everywhere. The inventory first holds m1 and m2: both node exporters and etcd are UP targets; m3 added to the inventory is a target UP
 * after the next run, loaded through the API (Prometheus's pid stays); a rerun and --check change nothing; m3's
 * node exporter stopped, HostDown fires into the real Alertmanager (short scrape interval and 'for').
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { changed, failures, handlers, useRoleTest, waitFor } from '../helpers/role-test.js';

const HOSTS = ['m1', 'm2', 'm3'];
const t = useRoleTest({
  name: 'monitoring',
  hosts: HOSTS.map((name) => ({ name, groups: name === 'm1' ? ['prometheus'] : name === 'm2' ? ['alertmanager', 'etcd'] : ['data_plane'] })),
  inventoryVars: { etcd_source: 'package' },
  playbook: [
    { name: 'os', hosts: 'all', roles: ['common'] },
    { name: 'etcd', hosts: 'etcd', roles: ['etcd'] },
    { name: 'exporters', hosts: 'all', roles: ['node-exporter'] },
    { name: 'alertmanager', hosts: 'alertmanager', roles: ['alertmanager'] },
    { name: 'prometheus', hosts: 'prometheus', roles: ['prometheus'] },
  ],
  vars: { prometheus_scrape_interval: '2s', prometheus_evaluation_interval: '2s', prometheus_host_down_for: '4s', alertmanager_group_wait: '1s' },
});
const log = (s: string) => console.log(`[monitoring] ${s}`);
const activity = (events: Parameters<typeof changed>[0]) => [...changed(events), ...handlers(events), ...failures(events)];
const on = async (host: string, cmd: string) => (await t.on(host, cmd)).trim();

interface Target {
  labels: { job: string; host: string };
  health: string;
}
/** Prometheus's active targets as `job host health`, sorted */
async function targets(): Promise<string[]> {
  const out = JSON.parse(await on('m1', 'curl -fsS http://127.0.0.1:9090/api/v1/targets?state=active')) as { data: { activeTargets: Target[] } };
  return out.data.activeTargets.map((x) => `${x.labels.job} ${x.labels.host} ${x.health}`).sort();
}

describe('monitoring on simulated hosts', () => {
  it('Prometheus scrapes the node exporters of the inventory; a host added is a target after the next run; rerun and --check change nothing', async () => {
    const hostsFile = join(t.dir, 'hosts.yml');
    const full = readFileSync(hostsFile, 'utf8');
    const overlay = readFileSync(t.sim.overlayFile, 'utf8');
    // the inventory (and the simulation's connection overlay) without m3 first
    const inv = parse(full) as { all: { children: Record<string, unknown> } };
    delete inv.all.children.data_plane;
    writeFileSync(hostsFile, stringify(inv));
    const ov = parse(overlay) as { hosts: Record<string, unknown> };
    delete ov.hosts.m3;
    writeFileSync(t.sim.overlayFile, stringify(ov));
    expect(readFileSync(hostsFile, 'utf8')).not.toContain('m3');
    const t0 = Date.now();
    const first = await t.run();
    expect(failures(first.events)).toEqual([]);
    expect(first.code).toBe(0);
    log(`first run (2 hosts) ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const upTwo = ['alertmanager m2 up', 'etcd m2 up', 'node m1 up', 'node m2 up', 'prometheus m1 up'];
    const two = await waitFor(targets, (v) => JSON.stringify(v) === JSON.stringify(upTwo), 30_000);
    expect(two.value).toEqual(upTwo);
    const pid = await on('m1', 'systemctl show -p MainPID --value prometheus');

    writeFileSync(hostsFile, full);
    writeFileSync(t.sim.overlayFile, overlay);
    const t1 = Date.now();
    const second = await t.run();
    expect(failures(second.events)).toEqual([]);
    log(`run with m3 added ${((Date.now() - t1) / 1000).toFixed(1)}s: ${changed(second.events).join('; ')}`);
    expect(changed(second.events)).toContain('m1 file /etc/prometheus/prometheus.yml');
    expect(changed(second.events)).toContain('m1 command prometheus: load prometheus.yml and orch-rules.yml (POST /-/reload)');
    expect(handlers(second.events).filter((h) => h.startsWith('m1'))).toEqual([]);
    const upThree = [...upTwo, 'node m3 up'].sort();
    const three = await waitFor(targets, (v) => JSON.stringify(v) === JSON.stringify(upThree), 30_000);
    expect(three.value).toEqual(upThree);
    expect(await on('m1', 'systemctl show -p MainPID --value prometheus')).toBe(pid);

    const again = await t.run();
    expect(again.code).toBe(0);
    expect(activity(again.events)).toEqual([]);
    expect(activity((await t.run({ check: true })).events)).toEqual([]);
  });

  it('a stopped node exporter fires HostDown into Alertmanager', async () => {
    await on('m3', 'systemctl stop prometheus-node-exporter');
    const alerts = async () => {
      const out = JSON.parse(await on('m2', 'curl -fsS http://127.0.0.1:9093/api/v2/alerts')) as Array<{ labels: Record<string, string>; status: { state: string } }>;
      return out.map((a) => `${a.labels.alertname} ${a.labels.host} ${a.status.state}`);
    };
    const fired = await waitFor(alerts, (v) => v.includes('HostDown m3 active'), 60_000);
    log(`HostDown m3 in Alertmanager after ${fired.seconds.toFixed(1)}s`);
    expect(fired.value).toContain('HostDown m3 active');
    expect(fired.value.filter((a) => a.startsWith('HostDown'))).toEqual(['HostDown m3 active']);
  });
});
