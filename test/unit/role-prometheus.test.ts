import { describe, expect, it } from 'vitest';
import prometheus from '../../roles/prometheus/index.js';
import nodeExporter from '../../roles/node-exporter/index.js';
import { PROMETHEUS_CONFIG, PROMETHEUS_DEFAULTS, PROMETHEUS_RULES, platformRules } from '../../roles/prometheus/render.js';
import { named, peer, roleContext, written } from './role-harness.js';

// minimal-5vm as the seed lays it out: Prometheus VM1, Alertmanager VM3 (moved off Kafka's controller port 9093)
const CP = ['control_plane', 'patroni', 'etcd', 'keycloak', 'nessie'];
const SEED = [
  peer('vm1', '10.20.0.11', [...CP, 'prometheus']),
  peer('vm2', '10.20.0.12', [...CP, 'grafana']),
  peer('vm3', '10.20.0.13', [...CP, 'alertmanager', 'loki', 'kafka'], { alertmanager_port: 9094 }),
  peer('vm4', '10.20.0.21', ['data_plane']),
  peer('vm5', '10.20.0.22', ['data_plane'], { node_exporter_port: 9101 }),
];
const opsOf = (vars: Record<string, unknown> = {}, peers = SEED) => prometheus.operations(roleContext(prometheus, { peers, host: 'vm1', vars }));
const config = (vars: Record<string, unknown> = {}, peers = SEED) => JSON.parse(written(named(opsOf(vars, peers), 'file', PROMETHEUS_CONFIG)).replace(/^#.*\n/, '')) as {
  global: Record<string, string>;
  rule_files: string[];
  alerting?: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
  scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[]; labels: { host: string } }> }>;
};
const targets = (c: ReturnType<typeof config>, job: string) => c.scrape_configs.find((j) => j.job_name === job)?.static_configs.map((s) => `${s.labels.host}=${s.targets.join()}`);

describe('prometheus role', () => {
  it("scrapes the seed's inventory: every host's node exporter, and each group at the hosts' own port variables", () => {
    const c = config();
    expect(c.scrape_configs.map((j) => j.job_name)).toEqual(['node', 'prometheus', 'alertmanager', 'etcd', 'patroni', 'keycloak', 'nessie']);
    expect(targets(c, 'node')).toEqual(['vm1=10.20.0.11:9100', 'vm2=10.20.0.12:9100', 'vm3=10.20.0.13:9100', 'vm4=10.20.0.21:9100', 'vm5=10.20.0.22:9101']);
    expect(targets(c, 'alertmanager')).toEqual(['vm3=10.20.0.13:9094']);
    expect(targets(c, 'patroni')).toEqual(['vm1=10.20.0.11:8008', 'vm2=10.20.0.12:8008', 'vm3=10.20.0.13:8008']);
    expect(targets(c, 'etcd')).toEqual(['vm1=10.20.0.11:2379', 'vm2=10.20.0.12:2379', 'vm3=10.20.0.13:2379']);
    expect(c.scrape_configs.find((j) => j.job_name === 'nessie')?.metrics_path).toBe('/q/metrics');
    expect(c.alerting?.alertmanagers[0].static_configs[0].targets).toEqual(['10.20.0.13:9094']);
    expect(c.rule_files).toEqual([PROMETHEUS_RULES]);
    expect(c.global).toMatchObject({ scrape_interval: '15s', evaluation_interval: '15s' });
  });

  it('a host added to the inventory is a new target; groups without hosts are no jobs; disabled jobs and extras', () => {
    const more = [...SEED, peer('vm6', '10.20.0.23', ['data_plane'])];
    expect(targets(config({}, more), 'node')).toContain('vm6=10.20.0.23:9100');
    const few = [peer('a', '192.0.2.1', ['prometheus'])];
    const c = config({ prometheus_disabled_jobs: 'prometheus', prometheus_extra_scrape_configs: [{ job: 'ch', targets: ['192.0.2.5:9363'] }] }, few);
    expect(c.scrape_configs.map((j) => j.job_name)).toEqual(['node', 'ch']);
    expect(c.alerting).toBeUndefined();
    expect(targets(c, 'ch')).toEqual(['192.0.2.5=192.0.2.5:9363']);
    expect(prometheus.validate!(roleContext(prometheus, { peers: few, vars: { prometheus_extra_scrape_configs: [{ job: 'x', targets: [] }, { job: 'x', targets: [] }] } }))).toEqual([
      'prometheus_extra_scrape_configs: job x twice',
    ]);
  });

  it('a group the inventory places but the playbook does not deploy (yet) has no target: no job DOWN', () => {
    // as the runner sees minimal-5vm's hosts: the roles of the playbook on each (PeerHost.roles); Keycloak not deployed
    const deployed = SEED.map((p) => ({ ...p, roles: ['common', 'node-exporter', ...(p.groups.includes('control_plane') ? ['etcd', 'patroni', 'nessie'] : []), ...(p.name === 'vm1' ? ['prometheus'] : []), ...(p.name === 'vm3' ? ['alertmanager'] : [])] }));
    const c = config({}, deployed);
    expect(c.scrape_configs.map((j) => j.job_name)).toEqual(['node', 'prometheus', 'alertmanager', 'etcd', 'patroni', 'nessie']);
    // Nessie on VM2 only: the other two are no targets
    const one = deployed.map((p) => ({ ...p, roles: p.roles.filter((r) => r !== 'nessie' || p.name === 'vm2') }));
    expect(targets(config({}, one), 'nessie')).toEqual(['vm2=10.20.0.12:19121']);
  });

  it('rules and config are checked by promtool before they replace the old files, rules first; loaded by the API, not a restart', () => {
    const list = opsOf();
    const rules = named(list, 'file', PROMETHEUS_RULES)!;
    const cfg = named(list, 'file', PROMETHEUS_CONFIG)!;
    expect(list.indexOf(rules)).toBeLessThan(list.indexOf(cfg));
    const script = (op: typeof rules) => (op.plan({ stat: null, sha256: null }) as { script: string }).script;
    expect(script(rules)).toContain('promtool check rules');
    expect(script(cfg)).toContain('promtool check config');
    expect(rules.notify ?? []).toEqual([]);
    expect(cfg.notify ?? []).toEqual([]);
    const reload = list.find((o) => o.kind === 'command')!;
    expect(JSON.stringify(reload)).toContain('/-/reload');
    const defaults = written(named(list, 'file', PROMETHEUS_DEFAULTS));
    expect(defaults).toContain('--web.enable-lifecycle');
    expect(defaults).toContain('--storage.tsdb.retention.time=15d');
    expect(written(named(opsOf({ prometheus_retention: '30d', prometheus_retention_size: '50GB' }), 'file', PROMETHEUS_DEFAULTS))).toMatch(/retention.time=30d --storage.tsdb.retention.size=50GB/);
  });

  it("the platform's alerts, with the host-down 'for' from the inventory", () => {
    const rules = platformRules({ hostDownFor: '10s', diskFreePercent: 15, replicationLagBytes: 1024 });
    expect(rules.map((r) => r.alert)).toEqual([
      'HostDown',
      'TargetDown',
      'DiskFilling',
      'DiskFullIn24h',
      'PatroniNoLeader',
      'PostgresReplicationLag',
      'EtcdNoLeader',
      'KafkaUnderReplicatedPartitions',
      'KafkaNoActiveController',
    ]);
    expect(rules[0]).toMatchObject({ expr: 'up{job="node"} == 0', for: '10s', labels: { severity: 'critical' } });
    expect(rules[2].expr).toMatch(/< 15$/);
    expect(rules[5].expr).toMatch(/> 1024$/);
  });

  it('declares its port, and node-exporter its own on every host', () => {
    const c = roleContext(prometheus, { peers: SEED });
    expect(prometheus.declares!(c).ports).toEqual([{ port: 9090, variable: 'prometheus_port', description: 'Prometheus web / API' }]);
    const n = roleContext(nodeExporter, { peers: SEED, vars: { node_exporter_port: 9101, node_exporter_extra_args: '--collector.systemd' } });
    expect(nodeExporter.declares!(n).ports?.[0].port).toBe(9101);
    expect(written(named(nodeExporter.operations(n), 'file', '/etc/default/prometheus-node-exporter'))).toContain('ARGS="--web.listen-address=0.0.0.0:9101 --collector.systemd"');
  });
});
