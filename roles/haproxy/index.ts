/**
 * haproxy: HAProxy on the control-plane hosts (the seed's "Keepalived + HAProxy with VIP", phase 2), with the
 * frontends the inventory lists (`haproxy_frontends`: PostgreSQL primary/replicas through Patroni's REST API
 * health checks, web services by host name). The new configuration is checked with `haproxy -c` before it
 * replaces the old one (a bad one is refused, the old one stays), and a change reloads HAProxy (its master process
 * stays, connections are kept) instead of restarting it.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { ops } from '../../src/ops/index.js';
import { FRONTEND_SCHEMA, SEED_FRONTENDS, frontendProblems, renderHaproxyCfg, type HaproxyFrontend } from './render.js';

export const HAPROXY_CFG = '/etc/haproxy/haproxy.cfg';

export default defineRole({
  name: 'haproxy',
  description: 'HAProxy load balancer: frontends from the inventory, config checked with haproxy -c, reloaded on change',
  vars: {
    haproxy_frontends: v.list<HaproxyFrontend>(FRONTEND_SCHEMA, {
      default: SEED_FRONTENDS,
      doc:
        'frontends: { name, port, mode: tcp|http, backends: [{ name, group (inventory group of the servers), port, host (http: route by Host header), ' +
        'check: { path (HTTP GET, else TCP connect), port, status }, balance }] }. Default: the seed (PostgreSQL primary on 5000 and replicas on 5001 ' +
        "through Patroni's /primary and /replica on 8008; Keycloak, Nessie, Grafana, Trino, Airflow, JupyterHub on port 80 by *.datalyptica.local name)",
    }),
    haproxy_extra_frontends: v.list<HaproxyFrontend>(FRONTEND_SCHEMA, {
      default: [],
      doc: 'frontends added after haproxy_frontends (same shape): an inventory adds its own and keeps the default list, e.g. minimal-5vm\'s Nessie API on the VIP',
    }),
    haproxy_stats_port: v.port({ default: 8404, doc: 'stats page (/stats) and health endpoint (/healthz) of HAProxy itself' }),
    haproxy_maxconn: v.int({ default: 4096, minimum: 1, doc: 'global maxconn' }),
    haproxy_tcp_timeout: v.str({ default: '30m', pattern: '^[0-9]+(ms|s|m|h)$', doc: 'client/server timeout of tcp frontends (database sessions)' }),
    haproxy_http_timeout: v.str({ default: '1m', pattern: '^[0-9]+(ms|s|m|h)$', doc: 'client/server timeout of http frontends' }),
  },
  declares: ({ vars }) => ({
    ports: [
      { port: vars.haproxy_stats_port, variable: 'haproxy_stats_port', description: 'HAProxy stats and /healthz' },
      ...frontends(vars).map((f) => ({ port: f.port, variable: 'haproxy_frontends', description: `HAProxy frontend ${f.name} (${f.mode})` })),
    ],
    memoryMb: 512,
    cpus: 0.5,
  }),
  validate: ({ vars, allHosts }) => {
    const groups = new Set(allHosts().flatMap((h) => h.groups));
    return frontendProblems(frontends(vars), (g) => groups.has(g));
  },
  operations({ vars, host, group }) {
    const cfg = renderHaproxyCfg(
      { frontends: frontends(vars), statsPort: vars.haproxy_stats_port, maxconn: vars.haproxy_maxconn, tcpTimeout: vars.haproxy_tcp_timeout, httpTimeout: vars.haproxy_http_timeout },
      group,
      host.facts,
    );
    return [
      ops.packages({ names: ['haproxy'], osFamily: host.facts.osFamily }),
      ops.file({ path: HAPROXY_CFG, content: cfg, owner: 'root', group: 'root', mode: 0o644, validate: 'haproxy -c -f %s', notify: ['reload:haproxy'] }),
      ops.service({ name: 'haproxy', enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `http://127.0.0.1:${vars.haproxy_stats_port}/healthz`, timeoutS: 30 }),
    ];
  },
});

const frontends = (vars: { haproxy_frontends: HaproxyFrontend[]; haproxy_extra_frontends: HaproxyFrontend[] }) => [...vars.haproxy_frontends, ...vars.haproxy_extra_frontends];
