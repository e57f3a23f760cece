/**
 * prometheus: the platform's Prometheus (minimal-5vm: VM1, 9090). Scrape targets come from the inventory (see
 * TARGET_KINDS in render.ts): adding a host to a group adds its target on the next run. Config and rules are checked
 * with promtool on the temp file before they replace the old ones, then loaded through the HTTP API
 * (POST /-/reload, --web.enable-lifecycle), never by a restart; only a change of the flags restarts it.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import {
  LOADED_MARKER,
  PROMETHEUS_CONFIG,
  PROMETHEUS_DEFAULTS,
  PROMETHEUS_RULES,
  PROMETHEUS_SERVICE,
  alertmanagerTargets,
  renderConfig,
  renderDefaults,
  renderRules,
  scrapeJobs,
  type ExtraScrape,
} from './render.js';

const DURATION = '^[0-9]+(ms|s|m|h|d|w|y)$';
const EXTRA_SCHEMA = {
  type: 'object',
  required: ['job', 'targets'],
  additionalProperties: false,
  properties: {
    job: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_-]*$' },
    targets: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9.:\\[\\]_-]+:[0-9]+$' } },
    path: { type: 'string', pattern: '^/[A-Za-z0-9/._-]*$' },
  },
};


export default defineRole({
  name: 'prometheus',
  description: 'Prometheus: scrape targets and alertmanagers from the inventory, platform alert rules, promtool-checked, reloaded through its API',
  doc: `The platform's Prometheus (minimal-5vm: VM1, 9090; Debian's package). Targets from the inventory: every host's
node exporter (node_exporter_port, 9100), and the groups prometheus, alertmanager, etcd, patroni, keycloak, nessie
at each host's own port variable (etcd_client_port, patroni_restapi_port ...), labelled host=<inventory name>;
prometheus_extra_scrape_configs adds more. Alertmanagers: the hosts of prometheus_alertmanager_group at their
alertmanager_port. Rules: HostDown, TargetDown, DiskFilling, DiskFullIn24h, PatroniNoLeader, PostgresReplicationLag,
EtcdNoLeader, KafkaUnderReplicatedPartitions, KafkaNoActiveController. prometheus.yml and orch-rules.yml are
checked with promtool (check config / check rules) before they replace the old files and loaded with
POST /-/reload; a change of the flags file (retention, port) restarts the service.`,
  vars: {
    prometheus_port: v.port({ default: 9090, doc: 'web / API port' }),
    prometheus_retention: v.str({ default: '15d', pattern: DURATION, doc: 'storage.tsdb.retention.time' }),
    prometheus_retention_size: v.str({ default: '', pattern: '^([0-9]+(B|KB|MB|GB|TB))?$', emptyAllowed: true, doc: 'storage.tsdb.retention.size (e.g. 50GB); empty: no size limit' }),
    prometheus_scrape_interval: v.str({ default: '15s', pattern: DURATION, doc: 'global scrape_interval' }),
    prometheus_evaluation_interval: v.str({ default: '15s', pattern: DURATION, doc: 'global evaluation_interval (rules)' }),
    prometheus_host_down_for: v.str({ default: '2m', pattern: DURATION, doc: "HostDown / TargetDown 'for'" }),
    prometheus_disk_free_percent: v.int({ default: 10, minimum: 1, maximum: 99, doc: 'DiskFilling fires below this % free' }),
    prometheus_replication_lag_bytes: v.int({ default: 16777216, minimum: 1, doc: 'PostgresReplicationLag fires above this replay lag (bytes)' }),
    prometheus_alertmanager_group: v.str({ default: 'alertmanager', doc: 'inventory group of the Alertmanagers (port: their alertmanager_port, else 9093)' }),
    prometheus_disabled_jobs: v.str({ default: '', pattern: '^[a-z_,]*$', emptyAllowed: true, doc: 'inventory-derived jobs left out, comma separated (node, etcd, patroni ...)' }),
    prometheus_extra_scrape_configs: v.list<ExtraScrape>(EXTRA_SCHEMA, { default: [], doc: 'further jobs: { job, targets: [host:port], path (default /metrics) }' }),
  },
  declares: ({ vars }) => ({
    ports: [{ port: vars.prometheus_port, variable: 'prometheus_port', description: 'Prometheus web / API' }],
    memoryMb: 2048,
    cpus: 1,
    dataDirs: ['/var/lib/prometheus'],
  }),
  validate: ({ vars }) => {
    const names = vars.prometheus_extra_scrape_configs.map((e) => e.job);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    return dup.length ? [`prometheus_extra_scrape_configs: job ${dup[0]} twice`] : [];
  },
  operations({ vars, host, group, allHosts }) {
    const jobs = scrapeJobs({
      allHosts: allHosts(),
      group,
      groups: {},
      disabled: vars.prometheus_disabled_jobs.split(',').filter(Boolean),
      extra: vars.prometheus_extra_scrape_configs,
    });
    const config = renderConfig({
      scrapeInterval: vars.prometheus_scrape_interval,
      evaluationInterval: vars.prometheus_evaluation_interval,
      jobs,
      alertmanagers: alertmanagerTargets(group(vars.prometheus_alertmanager_group)),
    });
    const rules = renderRules({ hostDownFor: vars.prometheus_host_down_for, diskFreePercent: vars.prometheus_disk_free_percent, replicationLagBytes: vars.prometheus_replication_lag_bytes });
    const api = `http://127.0.0.1:${vars.prometheus_port}`;
    return [
      ops.packages({ names: ['prometheus'], osFamily: host.facts.osFamily }),
      // rules first: promtool check config reads the rule files the config names
      ops.file({ path: PROMETHEUS_RULES, content: rules, owner: 'root', group: 'root', mode: 0o644, validate: 'promtool check rules %s' }),
      ops.file({ path: PROMETHEUS_CONFIG, content: config, owner: 'root', group: 'root', mode: 0o644, validate: 'promtool check config %s' }),
      ops.file({
        path: PROMETHEUS_DEFAULTS,
        content: renderDefaults({ port: vars.prometheus_port, retention: vars.prometheus_retention, retentionSize: vars.prometheus_retention_size }),
        owner: 'root',
        group: 'root',
        mode: 0o644,
        notify: [PROMETHEUS_SERVICE],
      }),
      ops.service({ name: PROMETHEUS_SERVICE, enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `${api}/-/ready`, timeoutS: 60 }),
      ops.reloadThroughApi({ name: 'prometheus: load prometheus.yml and orch-rules.yml (POST /-/reload)', url: `${api}/-/reload`, content: config + rules, marker: LOADED_MARKER }),
    ];
  },
});
