/**
 * alertmanager: the platform's Alertmanager (minimal-5vm: VM3; its default 9093 is Kafka's controller port there,
 * which `orch plan` reports: the inventory moves alertmanager_port). Routes and receivers from the inventory,
 * checked with amtool before they replace the old file, loaded with POST /-/reload; several hosts in the group
 * form a cluster (gossip on alertmanager_cluster_port).
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import {
  ALERTMANAGER_CONFIG,
  ALERTMANAGER_DEFAULTS,
  ALERTMANAGER_SERVICE,
  AM_LOADED_MARKER,
  receiverProblems,
  renderAlertmanagerConfig,
  renderAlertmanagerDefaults,
  type Receiver,
  type Route,
} from './render.js';

const DURATION = '^[0-9]+(ms|s|m|h|d)$';
const RECEIVER_SCHEMA = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' }, webhook_urls: { type: 'array', items: { type: 'string', pattern: '^https?://[^\\s]+$' } } },
};
const ROUTE_SCHEMA = {
  type: 'object',
  required: ['receiver', 'matchers'],
  additionalProperties: false,
  properties: { receiver: { type: 'string' }, matchers: { type: 'array', items: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"?[^"\\n]*"?$' } }, continue: { type: 'boolean' } },
};

export default defineRole({
  name: 'alertmanager',
  description: 'Alertmanager: routes and receivers from the inventory, amtool-checked, reloaded through its API, clustered when several',
  doc: `The platform's Alertmanager (minimal-5vm: VM3; Debian's package prometheus-alertmanager). Its default port
9093 is Kafka's controller port on VM3: \`orch plan\` reports the collision, the inventory sets alertmanager_port
(the prometheus role reads each host's alertmanager_port). Receivers (webhooks) and routes (matchers) from the
inventory; alertmanager.yml is checked with amtool check-config before it replaces the old file and loaded with
POST /-/reload. Several hosts in alertmanager_group: a gossip cluster on alertmanager_cluster_port, each host
peering with the others; one host: clustering off.`,
  vars: {
    alertmanager_port: v.port({ default: 9093, doc: 'web / API port (minimal-5vm: Kafka has 9093 on VM3; move it in the inventory)' }),
    alertmanager_cluster_port: v.port({ default: 9094, doc: 'gossip port between the members (only with 2+ hosts in the group)' }),
    alertmanager_group: v.str({ default: 'alertmanager', doc: 'inventory group of the members' }),
    alertmanager_receivers: v.list<Receiver>(RECEIVER_SCHEMA, { default: [{ name: 'default' }], doc: 'receivers: { name, webhook_urls: [url] } (a receiver without urls drops what it gets)' }),
    alertmanager_routes: v.list<Route>(ROUTE_SCHEMA, { default: [], doc: 'child routes: { receiver, matchers: ["severity=\\"critical\\""], continue }' }),
    alertmanager_default_receiver: v.str({ default: 'default', doc: 'receiver of the root route' }),
    alertmanager_group_by: v.str({ default: 'alertname,host', pattern: '^[a-zA-Z_][a-zA-Z0-9_,]*$', doc: 'group_by labels, comma separated' }),
    alertmanager_group_wait: v.str({ default: '30s', pattern: DURATION, doc: 'group_wait' }),
    alertmanager_group_interval: v.str({ default: '5m', pattern: DURATION, doc: 'group_interval' }),
    alertmanager_repeat_interval: v.str({ default: '4h', pattern: DURATION, doc: 'repeat_interval' }),
  },
  declares: ({ vars, group }) => ({
    ports: [
      { port: vars.alertmanager_port, variable: 'alertmanager_port', description: 'Alertmanager web / API' },
      ...(group(vars.alertmanager_group).length > 1 ? [{ port: vars.alertmanager_cluster_port, variable: 'alertmanager_cluster_port', description: 'Alertmanager cluster gossip' }] : []),
    ],
    memoryMb: 256,
    dataDirs: ['/var/lib/prometheus/alertmanager'],
  }),
  validate: ({ vars }) =>
    receiverProblems({ receivers: vars.alertmanager_receivers, routes: vars.alertmanager_routes, defaultReceiver: vars.alertmanager_default_receiver }),
  operations({ vars, host, group }) {
    const config = renderAlertmanagerConfig({
      receivers: vars.alertmanager_receivers,
      routes: vars.alertmanager_routes,
      defaultReceiver: vars.alertmanager_default_receiver,
      groupBy: vars.alertmanager_group_by.split(',').filter(Boolean),
      groupWait: vars.alertmanager_group_wait,
      groupInterval: vars.alertmanager_group_interval,
      repeatInterval: vars.alertmanager_repeat_interval,
    });
    const api = `http://127.0.0.1:${vars.alertmanager_port}`;
    return [
      ops.packages({ names: ['prometheus-alertmanager'], osFamily: host.facts.osFamily }),
      ops.file({ path: ALERTMANAGER_CONFIG, content: config, owner: 'root', group: 'root', mode: 0o644, validate: 'amtool check-config %s' }),
      ops.file({
        path: ALERTMANAGER_DEFAULTS,
        content: renderAlertmanagerDefaults({ port: vars.alertmanager_port, clusterPort: vars.alertmanager_cluster_port, me: host.name, members: group(vars.alertmanager_group) }),
        owner: 'root',
        group: 'root',
        mode: 0o644,
        notify: [ALERTMANAGER_SERVICE],
      }),
      ops.service({ name: ALERTMANAGER_SERVICE, enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `${api}/-/ready`, timeoutS: 60 }),
      ops.reloadThroughApi({ name: 'alertmanager: load alertmanager.yml (POST /-/reload)', url: `${api}/-/reload`, content: config, marker: AM_LOADED_MARKER }),
    ];
  },
});
