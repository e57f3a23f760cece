/**
 * grafana: grafana.ini (port, admin from secrets, database: sqlite3 or PostgreSQL), provisioning of the Prometheus and
 * Loki data sources from the inventory and of the dashboards directory, the bundled dashboards, the unit.
 */
import type { PeerHost } from '../../src/role/define.js';
import { lines } from '../../src/ops/index.js';

export const GRAFANA_HOME = '/opt/grafana/current';
export const GRAFANA_CONF_DIR = '/etc/grafana';
export const GRAFANA_INI = '/etc/grafana/grafana.ini';
export const PROVISIONING = '/etc/grafana/provisioning';
export const DATASOURCES = `${PROVISIONING}/datasources/orch.yaml`;
export const DASHBOARD_PROVIDERS = `${PROVISIONING}/dashboards/orch.yaml`;
export const DASHBOARDS_DIR = '/var/lib/grafana/dashboards';
export const GRAFANA_DATA = '/var/lib/grafana';

/** grafana.ini values are literal to the end of the line; a newline or a leading/trailing quote would change them */
function iniValue(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`${name}: no newlines`);
  // Grafana strips one pair of surrounding quotes (or triple quotes): wrap in triple quotes to keep # and ; literal
  if (value.includes('"""')) throw new Error(`${name}: may not contain """`);
  return `"""${value}"""`;
}

export interface GrafanaSettings {
  port: number;
  adminUser: string;
  adminPassword: string;
  database: 'sqlite3' | 'postgres';
  db: { host: string; port: number; name: string; user: string; password: string; sslMode: string };
  domain: string;
}

export function renderIni(s: GrafanaSettings): string {
  return lines(
    '# managed by orch (role grafana)',
    '[paths]',
    `data = ${GRAFANA_DATA}`,
    `logs = /var/log/grafana`,
    `plugins = ${GRAFANA_DATA}/plugins`,
    `provisioning = ${PROVISIONING}`,
    '',
    '[server]',
    `http_port = ${s.port}`,
    `domain = ${s.domain}`,
    '',
    '[security]',
    `admin_user = ${iniValue('grafana_admin_user', s.adminUser)}`,
    `admin_password = ${iniValue('grafana_admin_password', s.adminPassword)}`,
    '',
    '[database]',
    `type = ${s.database}`,
    ...(s.database === 'postgres'
      ? [
          `host = ${s.db.host}:${s.db.port}`,
          `name = ${s.db.name}`,
          `user = ${iniValue('grafana_db_user', s.db.user)}`,
          `password = ${iniValue('grafana_db_password', s.db.password)}`,
          `ssl_mode = ${s.db.sslMode}`,
        ]
      : [`path = ${GRAFANA_DATA}/grafana.db`]),
    '',
    '[analytics]',
    'reporting_enabled = false',
    'check_for_updates = false',
  );
}

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
const portOf = (p: PeerHost, name: string, dflt: number) => (typeof p.vars[name] === 'number' ? (p.vars[name] as number) : dflt);

export interface Datasource {
  name: string;
  type: 'prometheus' | 'loki';
  uid: string;
  url: string;
  isDefault: boolean;
}

/** Prometheus (the first host of its group) and Loki (the first of its group), each where the inventory has one */
export function datasources(prometheus: PeerHost[], loki: PeerHost[]): Datasource[] {
  const out: Datasource[] = [];
  if (prometheus[0]) out.push({ name: 'Prometheus', type: 'prometheus', uid: 'orch-prometheus', url: `http://${hostPort(prometheus[0].address, portOf(prometheus[0], 'prometheus_port', 9090))}`, isDefault: true });
  if (loki[0]) out.push({ name: 'Loki', type: 'loki', uid: 'orch-loki', url: `http://${hostPort(loki[0].address, portOf(loki[0], 'loki_port', 3100))}`, isDefault: false });
  return out;
}

export function renderDatasources(list: Datasource[]): string {
  const doc = {
    apiVersion: 1,
    // sources orch provisioned earlier but no longer has (a group emptied) are deleted
    deleteDatasources: [
      { name: 'Prometheus', orgId: 1 },
      { name: 'Loki', orgId: 1 },
    ].filter((d) => !list.some((x) => x.name === d.name)),
    datasources: list.map((d) => ({ name: d.name, type: d.type, uid: d.uid, access: 'proxy', orgId: 1, url: d.url, isDefault: d.isDefault, editable: false })),
  };
  return `# managed by orch (role grafana): JSON, which is YAML\n${JSON.stringify(doc, null, 2)}\n`;
}

export function renderDashboardProviders(): string {
  const doc = { apiVersion: 1, providers: [{ name: 'orch', orgId: 1, folder: 'Platform', type: 'file', disableDeletion: true, allowUiUpdates: false, options: { path: DASHBOARDS_DIR } }] };
  return `# managed by orch (role grafana): JSON, which is YAML\n${JSON.stringify(doc, null, 2)}\n`;
}

/** the bundled dashboard: hosts (up, CPU, memory, disk) from the node exporters, and the journal from Loki */
export function hostsDashboard(): string {
  const panel = (id: number, title: string, expr: string, y: number, unit = 'short') => ({
    id,
    title,
    type: 'timeseries',
    datasource: { type: 'prometheus', uid: 'orch-prometheus' },
    gridPos: { h: 8, w: 12, x: (id - 1) % 2 ? 12 : 0, y },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: 'A', expr, legendFormat: '{{host}}' }],
  });
  const d = {
    uid: 'orch-hosts',
    title: 'Platform hosts',
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    panels: [
      panel(1, 'Up', 'up{job="node"}', 0),
      panel(2, 'CPU busy', '1 - avg by (host) (rate(node_cpu_seconds_total{mode="idle"}[5m]))', 0, 'percentunit'),
      panel(3, 'Memory available', 'node_memory_MemAvailable_bytes', 8, 'bytes'),
      panel(4, 'Disk free', 'min by (host) (node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"})', 8, 'percentunit'),
      { id: 5, title: 'Journal', type: 'logs', datasource: { type: 'loki', uid: 'orch-loki' }, gridPos: { h: 10, w: 24, x: 0, y: 16 }, targets: [{ refId: 'A', expr: '{host=~".+"}' }] },
    ],
  };
  return `${JSON.stringify(d, null, 2)}\n`;
}

export function renderUnit(): string {
  return lines(
    '# managed by orch (role grafana)',
    '[Unit]',
    'Description=Grafana',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'User=grafana',
    'Group=grafana',
    `WorkingDirectory=${GRAFANA_HOME}`,
    `ExecStart=${GRAFANA_HOME}/bin/grafana server --homepath=${GRAFANA_HOME} --config=${GRAFANA_INI}`,
    'Restart=on-failure',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  );
}
