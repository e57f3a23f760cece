/**
 * prometheus: the scrape configuration generated from the inventory, the platform's alert rules and the flags file.
 * Both files are rendered as JSON, which is YAML: no quoting rules to get wrong, and promtool reads them as is.
 */
import type { PeerHost } from '../../src/role/define.js';
import { environmentFileValue, lines } from '../../src/ops/index.js';

export const PROMETHEUS_SERVICE = 'prometheus';
export const PROMETHEUS_CONFIG = '/etc/prometheus/prometheus.yml';
export const PROMETHEUS_RULES = '/etc/prometheus/orch-rules.yml';
export const PROMETHEUS_DEFAULTS = '/etc/default/prometheus';
export const PROMETHEUS_DATA = '/var/lib/prometheus/metrics2';
/** sha256 of the config + rules Prometheus was last told to load (POST /-/reload) */
export const LOADED_MARKER = '/var/lib/prometheus/orch-loaded.sha256';

/**
 * What the platform's roles expose, by inventory group: the port variable (read from the peer's own variables,
 * so an inventory that moves a port moves the target) with the role's default, and the path. Only endpoints the
 * roles really serve today are here; `prometheus_extra_scrape_configs` adds others.
 */
export interface TargetKind {
  job: string;
  /** the role serving the endpoint: a host is a target only where the playbook deploys it (PeerHost.roles) */
  role: string;
  /** the variable naming the group (a prometheus var), or `all` for every host */
  group: string;
  portVar: string;
  defaultPort: number;
  path: string;
  /** a peer variable that turns the endpoint off when false */
  enabledVar?: string;
}

export const TARGET_KINDS: TargetKind[] = [
  { job: 'node', role: 'node-exporter', group: 'all', portVar: 'node_exporter_port', defaultPort: 9100, path: '/metrics' },
  { job: 'prometheus', role: 'prometheus', group: 'prometheus', portVar: 'prometheus_port', defaultPort: 9090, path: '/metrics' },
  { job: 'alertmanager', role: 'alertmanager', group: 'alertmanager', portVar: 'alertmanager_port', defaultPort: 9093, path: '/metrics' },
  { job: 'etcd', role: 'etcd', group: 'etcd', portVar: 'etcd_client_port', defaultPort: 2379, path: '/metrics' },
  { job: 'patroni', role: 'patroni', group: 'patroni', portVar: 'patroni_restapi_port', defaultPort: 8008, path: '/metrics' },
  { job: 'keycloak', role: 'keycloak', group: 'keycloak', portVar: 'keycloak_management_port', defaultPort: 9000, path: '/metrics', enabledVar: 'keycloak_metrics_enabled' },
  { job: 'nessie', role: 'nessie', group: 'nessie', portVar: 'nessie_management_port', defaultPort: 19121, path: '/q/metrics' },
];

export interface ExtraScrape {
  job: string;
  targets: string[];
  path?: string;
}

export interface ScrapeJob {
  job_name: string;
  metrics_path: string;
  static_configs: Array<{ targets: string[]; labels: { host: string } }>;
}

const portOf = (p: PeerHost, k: { portVar: string; defaultPort: number }): number => {
  const v = p.vars[k.portVar];
  return typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : k.defaultPort;
};
const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * the scrape jobs of the inventory: one target per host of each kind's group that the playbook deploys the kind's
 * role on (a group placed in the inventory but not yet deployed has no target to be DOWN), labelled with the
 * inventory host name
 */
export function scrapeJobs(o: {
  allHosts: PeerHost[];
  group: (name: string) => PeerHost[];
  groups: Record<string, string>;
  disabled: string[];
  extra: ExtraScrape[];
}): ScrapeJob[] {
  const jobs: ScrapeJob[] = [];
  for (const k of TARGET_KINDS) {
    if (o.disabled.includes(k.job)) continue;
    const g = o.groups[k.job] ?? k.group;
    const members = (g === 'all' ? o.allHosts : o.group(g)).filter((p) => (p.roles === undefined || p.roles.includes(k.role)) && !(k.enabledVar && p.vars[k.enabledVar] === false));
    if (!members.length) continue;
    jobs.push({
      job_name: k.job,
      metrics_path: k.path,
      static_configs: members.map((p) => ({ targets: [hostPort(p.address, portOf(p, k))], labels: { host: p.name } })),
    });
  }
  for (const e of o.extra) {
    jobs.push({
      job_name: e.job,
      metrics_path: e.path ?? '/metrics',
      static_configs: e.targets.map((t) => ({ targets: [t], labels: { host: t.replace(/:[0-9]+$/, '') } })),
    });
  }
  return jobs;
}

export interface PrometheusSettings {
  scrapeInterval: string;
  evaluationInterval: string;
  jobs: ScrapeJob[];
  alertmanagers: string[];
}

export function renderConfig(s: PrometheusSettings): string {
  const cfg: Record<string, unknown> = {
    global: { scrape_interval: s.scrapeInterval, evaluation_interval: s.evaluationInterval, external_labels: { orch: 'prometheus' } },
    rule_files: [PROMETHEUS_RULES],
    ...(s.alertmanagers.length ? { alerting: { alertmanagers: [{ static_configs: [{ targets: s.alertmanagers }] }] } } : {}),
    scrape_configs: s.jobs,
  };
  return `# managed by orch (role prometheus): JSON, which is YAML\n${JSON.stringify(cfg, null, 2)}\n`;
}

/** the alertmanagers Prometheus sends to: every host of the group at its alertmanager_port */
export function alertmanagerTargets(members: PeerHost[]): string[] {
  return members.map((p) => hostPort(p.address, portOf(p, { portVar: 'alertmanager_port', defaultPort: 9093 })));
}

export interface RuleSettings {
  hostDownFor: string;
  diskFreePercent: number;
  replicationLagBytes: number;
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string };
}

/** The platform's alert rules. Metrics a role does not expose yet (Kafka without the JMX exporter) never fire. */
export function platformRules(s: RuleSettings): Rule[] {
  const r = (alert: string, expr: string, forTime: string, severity: string, summary: string): Rule => ({ alert, expr, for: forTime, labels: { severity }, annotations: { summary } });
  return [
    r('HostDown', 'up{job="node"} == 0', s.hostDownFor, 'critical', 'host {{ $labels.host }}: node exporter unreachable'),
    r('TargetDown', 'up{job!="node"} == 0', s.hostDownFor, 'warning', '{{ $labels.job }} on {{ $labels.host }} unreachable'),
    r(
      'DiskFilling',
      `100 * node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"} < ${s.diskFreePercent}`,
      '10m',
      'warning',
      `{{ $labels.host }}: {{ $labels.mountpoint }} below ${s.diskFreePercent}% free`,
    ),
    r(
      'DiskFullIn24h',
      'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"}[6h], 86400) < 0',
      '1h',
      'warning',
      '{{ $labels.host }}: {{ $labels.mountpoint }} full within 24h at this rate',
    ),
    r('PatroniNoLeader', 'sum(patroni_master) < 1', '1m', 'critical', 'PostgreSQL cluster without a Patroni leader'),
    r(
      'PostgresReplicationLag',
      `max(patroni_xlog_location) - min(patroni_xlog_replayed_location > 0) > ${s.replicationLagBytes}`,
      '5m',
      'warning',
      `a PostgreSQL replica replays more than ${s.replicationLagBytes} bytes behind the primary`,
    ),
    r('EtcdNoLeader', 'etcd_server_has_leader == 0', '1m', 'critical', 'etcd member {{ $labels.host }} has no leader'),
    r('KafkaUnderReplicatedPartitions', 'sum(kafka_server_replicamanager_underreplicatedpartitions) > 0', '5m', 'warning', 'Kafka has under-replicated partitions'),
    r('KafkaNoActiveController', 'sum(kafka_controller_kafkacontroller_activecontrollercount) != 1', '1m', 'critical', 'Kafka has no (or more than one) active controller'),
  ];
}

export function renderRules(s: RuleSettings): string {
  return `# managed by orch (role prometheus): JSON, which is YAML\n${JSON.stringify({ groups: [{ name: 'platform', rules: platformRules(s) }] }, null, 2)}\n`;
}

export function renderDefaults(o: { port: number; retention: string; retentionSize: string }): string {
  const args = [
    `--config.file=${PROMETHEUS_CONFIG}`,
    `--storage.tsdb.path=${PROMETHEUS_DATA}`,
    `--storage.tsdb.retention.time=${o.retention}`,
    ...(o.retentionSize ? [`--storage.tsdb.retention.size=${o.retentionSize}`] : []),
    `--web.listen-address=:${o.port}`,
    '--web.enable-lifecycle',
  ].join(' ');
  return lines('# managed by orch (role prometheus)', `ARGS=${environmentFileValue(args, 'prometheus flags: no newlines')}`);
}
