import { describe, expect, it } from 'vitest';
import alertmanager from '../../roles/alertmanager/index.js';
import { ALERTMANAGER_CONFIG, ALERTMANAGER_DEFAULTS } from '../../roles/alertmanager/render.js';
import { named, peer, roleContext, written } from './role-harness.js';

const ONE = [peer('vm3', '10.20.0.13', ['alertmanager'])];
const THREE = [peer('a1', '10.0.0.1', ['alertmanager']), peer('a2', '10.0.0.2', ['alertmanager']), peer('a3', '10.0.0.3', ['alertmanager'])];
const opsOf = (peers = ONE, vars: Record<string, unknown> = {}, host?: string) => alertmanager.operations(roleContext(alertmanager, { peers, vars, host }));

describe('alertmanager role', () => {
  it('routes and receivers from the inventory, checked with amtool before they replace the old file', () => {
    const vars = {
      alertmanager_receivers: [{ name: 'default' }, { name: 'oncall', webhook_urls: ['http://hooks.example/alert'] }],
      alertmanager_routes: [{ receiver: 'oncall', matchers: ['severity="critical"'] }],
    };
    const op = named(opsOf(ONE, vars), 'file', ALERTMANAGER_CONFIG)!;
    const cfg = JSON.parse(written(op).replace(/^#.*\n/, '')) as { route: Record<string, unknown>; receivers: unknown[] };
    expect(cfg.route).toEqual({
      receiver: 'default',
      group_by: ['alertname', 'host'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [{ receiver: 'oncall', matchers: ['severity="critical"'] }],
    });
    expect(cfg.receivers).toEqual([{ name: 'default' }, { name: 'oncall', webhook_configs: [{ url: 'http://hooks.example/alert', send_resolved: true }] }]);
    expect((op.plan({ stat: null, sha256: null }) as { script: string }).script).toContain('amtool check-config');
    expect(op.notify ?? []).toEqual([]);
    expect(alertmanager.validate!(roleContext(alertmanager, { peers: ONE, vars: { alertmanager_routes: [{ receiver: 'pager', matchers: [] }] } }))).toEqual([
      'alertmanager_routes[0]: receiver pager is not in alertmanager_receivers (default)',
    ]);
  });

  it('alone: no cluster, one port; several: each peers with the others, the gossip port declared', () => {
    expect(written(named(opsOf(), 'file', ALERTMANAGER_DEFAULTS))).toContain('--web.listen-address=:9093 --cluster.listen-address="');
    expect(alertmanager.declares!(roleContext(alertmanager, { peers: ONE })).ports?.map((p) => p.port)).toEqual([9093]);
    const a2 = written(named(opsOf(THREE, { alertmanager_port: 9095 }, 'a2'), 'file', ALERTMANAGER_DEFAULTS));
    expect(a2).toContain('--web.listen-address=:9095 --cluster.listen-address=0.0.0.0:9094 --cluster.peer=10.0.0.1:9094 --cluster.peer=10.0.0.3:9094"');
    expect(alertmanager.declares!(roleContext(alertmanager, { peers: THREE, host: 'a2' })).ports?.map((p) => p.port)).toEqual([9093, 9094]);
  });
});
