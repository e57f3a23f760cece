/** Typed renderer of /etc/haproxy/haproxy.cfg: the frontends the inventory lists, backends from inventory groups. */
import type { HostFacts, PeerHost } from '../../src/role/define.js';

/** How a backend's servers are checked: an HTTP GET of `path` (on `port`, default the server's) or a TCP connect. */
export interface HaproxyCheck {
  /** HTTP path, e.g. Patroni's `/primary`; absent: a TCP connect check */
  path?: string;
  /** port the check goes to (Patroni's REST API: 8008), default the server's port */
  port?: number;
  /** expected HTTP status, default 200 */
  status?: number;
}

export interface HaproxyBackend {
  /** backend name, unique in the file */
  name: string;
  /** inventory group whose hosts are the servers */
  group: string;
  /** port of the service on those hosts */
  port: number;
  /** http frontends: requests whose Host header is this name go here; absent: the frontend's default backend */
  host?: string;
  check?: HaproxyCheck;
  /** balance algorithm, default roundrobin */
  balance?: 'roundrobin' | 'leastconn' | 'first' | 'source';
}

export interface HaproxyFrontend {
  name: string;
  /** port HAProxy listens on (all addresses, so the keepalived VIP too) */
  port: number;
  mode: 'tcp' | 'http';
  backends: HaproxyBackend[];
}

export const FRONTEND_SCHEMA = {
  type: 'object',
  required: ['name', 'port', 'mode', 'backends'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    mode: { enum: ['tcp', 'http'] },
    backends: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'group', 'port'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          group: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          host: { type: 'string', pattern: '^[A-Za-z0-9.-]+$' },
          balance: { enum: ['roundrobin', 'leastconn', 'first', 'source'] },
          check: {
            type: 'object',
            additionalProperties: false,
            properties: {
              path: { type: 'string', pattern: '^/[^\\s]*$' },
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              status: { type: 'integer', minimum: 100, maximum: 599 },
            },
          },
        },
      },
    },
  },
};

/**
 * The seed's load-balanced endpoints (datalyptica-minimal-5vm.md): PostgreSQL through Patroni (the primary where
 * Patroni's REST API on 8008 answers 200 to /primary, the replicas where it answers /replica; 5000/5001 as in
 * Patroni's HAProxy template, 5432 being PostgreSQL's own on these hosts), and the web services on HTTP port 80 by
 * host name (the seed's DNS names *.datalyptica.local, ports from its service tables).
 */
export const SEED_FRONTENDS: HaproxyFrontend[] = [
  {
    name: 'postgres_primary',
    port: 5000,
    mode: 'tcp',
    backends: [{ name: 'postgres_primary', group: 'patroni', port: 5432, balance: 'first', check: { path: '/primary', port: 8008 } }],
  },
  {
    name: 'postgres_replicas',
    port: 5001,
    mode: 'tcp',
    backends: [{ name: 'postgres_replicas', group: 'patroni', port: 5432, balance: 'roundrobin', check: { path: '/replica', port: 8008 } }],
  },
  {
    name: 'http',
    port: 80,
    mode: 'http',
    backends: [
      { name: 'keycloak', group: 'keycloak', port: 8080, host: 'keycloak.datalyptica.local', check: { path: '/realms/master' } },
      { name: 'nessie', group: 'nessie', port: 19120, host: 'nessie.datalyptica.local', check: { path: '/api/v2/config' } },
      { name: 'grafana', group: 'grafana', port: 3000, host: 'grafana.datalyptica.local', check: { path: '/api/health' } },
      { name: 'trino', group: 'trino_coordinator', port: 8080, host: 'trino.datalyptica.local', check: { path: '/v1/info' } },
      { name: 'airflow', group: 'airflow_webserver', port: 8082, host: 'airflow.datalyptica.local', check: { path: '/health' } },
      { name: 'jupyter', group: 'jupyterhub', port: 8000, host: 'jupyter.datalyptica.local', check: { path: '/hub/health' } },
    ],
  },
];

export interface HaproxyConfig {
  frontends: HaproxyFrontend[];
  statsPort: number;
  maxconn: number;
  /** client/server timeout of tcp frontends (database sessions), e.g. 30m */
  tcpTimeout: string;
  /** client/server timeout of http frontends, e.g. 1m */
  httpTimeout: string;
}

/** Problems in a frontend list (each one line), for the role's `validate`. */
export function frontendProblems(frontends: HaproxyFrontend[], groupExists: (g: string) => boolean): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  const ports = new Set<number>();
  for (const f of frontends) {
    if (ports.has(f.port)) out.push(`haproxy_frontends: port ${f.port} is bound by two frontends`);
    ports.add(f.port);
    if (f.mode === 'tcp' && f.backends.length !== 1) out.push(`haproxy_frontends: ${f.name}: a tcp frontend has exactly one backend (it has ${f.backends.length})`);
    if (f.mode === 'http' && f.backends.filter((b) => !b.host).length > 1) out.push(`haproxy_frontends: ${f.name}: at most one backend without host (the default)`);
    for (const b of f.backends) {
      if (names.has(b.name)) out.push(`haproxy_frontends: backend name ${b.name} is used twice`);
      names.add(b.name);
      if (f.mode === 'tcp' && b.host) out.push(`haproxy_frontends: ${f.name}: backend ${b.name}: host routing needs mode http`);
      if (!groupExists(b.group)) out.push(`haproxy_frontends: ${f.name}: backend ${b.name}: inventory group ${b.group} does not exist`);
    }
  }
  return out;
}

const ident = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

function backend(b: HaproxyBackend, mode: 'tcp' | 'http', servers: PeerHost[], c: HaproxyConfig): string[] {
  const out = [`backend ${b.name}`, `    mode ${mode}`, `    balance ${b.balance ?? 'roundrobin'}`];
  if (mode === 'tcp') out.push(`    timeout server ${c.tcpTimeout}`);
  if (b.check?.path) {
    out.push(`    option httpchk GET ${b.check.path}`, `    http-check expect status ${b.check.status ?? 200}`);
  }
  // a server marked down has its sessions closed (a demoted PostgreSQL primary keeps no writers)
  out.push(`    default-server inter 2s fall 2 rise 2${mode === 'tcp' ? ' on-marked-down shutdown-sessions' : ''}`);
  if (!servers.length) out.push(`    # inventory group ${b.group} has no hosts: requests get 503`);
  const checkPort = b.check?.port !== undefined && b.check.port !== b.port ? ` port ${b.check.port}` : '';
  for (const s of servers) out.push(`    server ${s.name} ${s.address}:${b.port} check${checkPort}`);
  return out;
}

/** /etc/haproxy/haproxy.cfg */
export function renderHaproxyCfg(c: HaproxyConfig, group: (name: string) => PeerHost[], facts: Pick<HostFacts, 'osFamily'>): string {
  const socket = facts.osFamily === 'redhat' ? '/var/lib/haproxy/stats' : '/run/haproxy/admin.sock';
  const out: string[] = [
    '# Managed by orch (role haproxy) - do not edit',
    'global',
    '    log /dev/log local0',
    '    log /dev/log local1 notice',
    '    chroot /var/lib/haproxy',
    `    stats socket ${socket} mode 660 level admin`,
    '    stats timeout 30s',
    '    user haproxy',
    '    group haproxy',
    '    daemon',
    `    maxconn ${c.maxconn}`,
    '',
    'defaults',
    '    log global',
    '    option dontlognull',
    '    timeout connect 5s',
    `    timeout client ${c.httpTimeout}`,
    `    timeout server ${c.httpTimeout}`,
    '    timeout check 3s',
    '',
    'frontend stats',
    `    bind *:${c.statsPort}`,
    '    mode http',
    '    stats enable',
    '    stats uri /stats',
    '    stats refresh 10s',
    '    http-request return status 200 content-type text/plain string ok if { path /healthz }',
  ];
  for (const f of c.frontends) {
    out.push('', `frontend ${f.name}`, `    bind *:${f.port}`, `    mode ${f.mode}`);
    if (f.mode === 'tcp') out.push('    option tcplog', `    timeout client ${c.tcpTimeout}`, `    default_backend ${f.backends[0].name}`);
    else {
      out.push('    option httplog', '    option forwardfor');
      const named = f.backends.filter((x) => x.host);
      for (const b of named) out.push(`    acl host_${ident(b.name)} req.hdr(host),field(1,:) -i ${b.host}`);
      const dflt = f.backends.find((x) => !x.host);
      if (!dflt) out.push(`    http-request deny deny_status 404 unless ${named.map((b) => `host_${ident(b.name)}`).join(' || ')}`);
      for (const b of named) out.push(`    use_backend ${b.name} if host_${ident(b.name)}`);
      if (dflt) out.push(`    default_backend ${dflt.name}`);
    }
    for (const b of f.backends) out.push('', ...backend(b, f.mode, group(b.group), c));
  }
  return out.join('\n') + '\n';
}
