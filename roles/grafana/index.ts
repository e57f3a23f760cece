/**
 * grafana: Grafana (minimal-5vm: VM2, 3000) from the official release archive, data sources (Prometheus, Loki) and
 * dashboards provisioned from files, the admin password from secrets, sqlite3 or PostgreSQL (enterprise-50vm).
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import {
  DASHBOARDS_DIR,
  DASHBOARD_PROVIDERS,
  DATASOURCES,
  GRAFANA_CONF_DIR,
  GRAFANA_DATA,
  GRAFANA_HOME,
  GRAFANA_INI,
  PROVISIONING,
  datasources,
  hostsDashboard,
  renderDashboardProviders,
  renderDatasources,
  renderIni,
  renderUnit,
} from './render.js';

export default defineRole({
  name: 'grafana',
  description: 'Grafana: Prometheus and Loki data sources and dashboards provisioned from files, admin password from secrets',
  doc: `Grafana (minimal-5vm: VM2, 3000) from the official release archive (grafana_url, grafana_sha256: the
catalogue has no pin yet, so the checksum is the inventory's). grafana.ini (root:grafana 0640, a secret file: the
admin password and the database password are in it) sets the port, the admin user, the database (sqlite3, or
postgres for enterprise-50vm). Provisioned from files: the data sources Prometheus (first host of
grafana_prometheus_group at its prometheus_port) and Loki (grafana_loki_group, loki_port), and a dashboards provider
for ${DASHBOARDS_DIR} with the bundled "Platform hosts" dashboard. A change restarts Grafana.`,
  vars: {
    grafana_version: v.str({ default: '11.4.0', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'release (the seeds: 11.4.0)' }),
    grafana_url: v.str({ default: '', pattern: '^(|https?://[^\\s]+)$', emptyAllowed: true, doc: "archive URL; empty: dl.grafana.com's grafana-<version>.linux-amd64.tar.gz" }),
    grafana_sha256: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{64})$', doc: 'sha256 of the archive (required: the catalogue has no pin for Grafana yet)' }),
    grafana_port: v.port({ default: 3000, doc: 'http_port' }),
    grafana_domain: v.str({ default: 'grafana.datalyptica.local', pattern: '^[A-Za-z0-9.-]+$', doc: 'server domain (HAProxy routes grafana.datalyptica.local here)' }),
    grafana_admin_user: v.str({ default: 'admin', pattern: '^[A-Za-z0-9_.@-]+$', doc: 'admin user' }),
    grafana_admin_password: v.str({ default: '', secret: true, doc: 'admin password (secret)' }),
    grafana_database: v.oneOf(['sqlite3', 'postgres'] as const, { default: 'sqlite3', doc: 'database: sqlite3 (minimal-5vm) or postgres (enterprise-50vm)' }),
    grafana_db_host: v.str({ default: '127.0.0.1', pattern: '^[A-Za-z0-9.:-]+$', doc: 'PostgreSQL host (postgres; e.g. the HAProxy primary frontend)' }),
    grafana_db_port: v.port({ default: 5432, doc: 'PostgreSQL port' }),
    grafana_db_name: v.str({ default: 'grafana', pattern: '^[A-Za-z0-9_]+$', doc: 'database name' }),
    grafana_db_user: v.str({ default: 'grafana', pattern: '^[A-Za-z0-9_]+$', doc: 'database user' }),
    grafana_db_password: v.str({ default: '', secret: true, emptyAllowed: true, doc: 'database password (secret; required with postgres)' }),
    grafana_db_ssl_mode: v.oneOf(['disable', 'require', 'verify-full'] as const, { default: 'disable', doc: 'ssl_mode' }),
    grafana_prometheus_group: v.str({ default: 'prometheus', doc: 'inventory group of Prometheus (data source: its first host)' }),
    grafana_loki_group: v.str({ default: 'loki', doc: 'inventory group of Loki (data source: its first host)' }),
  },
  declares: ({ vars }) => ({
    ports: [{ port: vars.grafana_port, variable: 'grafana_port', description: 'Grafana web' }],
    memoryMb: 512,
    cpus: 1,
    dataDirs: [GRAFANA_DATA],
  }),
  validate: ({ vars }) => [
    ...(vars.grafana_sha256 ? [] : ['grafana_sha256: required (the catalogue has no pinned Grafana release yet)']),
    ...(vars.grafana_database === 'postgres' && !vars.grafana_db_password ? ['grafana_db_password: required with grafana_database: postgres'] : []),
  ],
  operations({ vars, group }) {
    const url = vars.grafana_url || `https://dl.grafana.com/oss/release/grafana-${vars.grafana_version}.linux-amd64.tar.gz`;
    const ini = renderIni({
      port: vars.grafana_port,
      adminUser: vars.grafana_admin_user,
      adminPassword: vars.grafana_admin_password,
      database: vars.grafana_database,
      db: { host: vars.grafana_db_host, port: vars.grafana_db_port, name: vars.grafana_db_name, user: vars.grafana_db_user, password: vars.grafana_db_password, sslMode: vars.grafana_db_ssl_mode },
      domain: vars.grafana_domain,
    });
    const ds = datasources(group(vars.grafana_prometheus_group), group(vars.grafana_loki_group));
    const conf = { owner: 'root', group: 'grafana', mode: 0o640 } as const;
    return [
      ops.group({ name: 'grafana', system: true }),
      ops.user({ name: 'grafana', group: 'grafana', system: true, home: GRAFANA_DATA, createHome: false, shell: '/usr/sbin/nologin' }),
      ops.artifact({ url, sha256: vars.grafana_sha256, dest: `/opt/grafana/releases/${vars.grafana_version}`, link: GRAFANA_HOME, stripComponents: 1 }),
      ops.dir({ path: GRAFANA_CONF_DIR, owner: 'root', group: 'grafana', mode: 0o750 }),
      ops.dir({ path: PROVISIONING, owner: 'root', group: 'grafana', mode: 0o750 }),
      ...['datasources', 'dashboards', 'plugins', 'alerting'].map((d) => ops.dir({ path: `${PROVISIONING}/${d}`, owner: 'root', group: 'grafana', mode: 0o750 })),
      ops.dir({ path: GRAFANA_DATA, owner: 'grafana', group: 'grafana', mode: 0o750 }),
      ops.dir({ path: DASHBOARDS_DIR, owner: 'root', group: 'grafana', mode: 0o750 }),
      ops.dir({ path: '/var/log/grafana', owner: 'grafana', group: 'grafana', mode: 0o750 }),
      ops.file({ path: GRAFANA_INI, content: ini, ...conf, secret: true, notify: ['grafana'] }),
      ops.file({ path: DATASOURCES, content: renderDatasources(ds), ...conf, notify: ['grafana'] }),
      ops.file({ path: DASHBOARD_PROVIDERS, content: renderDashboardProviders(), ...conf, notify: ['grafana'] }),
      ops.file({ path: `${DASHBOARDS_DIR}/platform-hosts.json`, content: hostsDashboard(), ...conf }),
      ops.unit({ name: 'grafana.service', content: renderUnit(), notify: ['grafana'] }),
      ops.service({ name: 'grafana', enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `http://127.0.0.1:${vars.grafana_port}/api/health`, timeoutS: 90 }),
    ];
  },
});
