import { describe, expect, it } from 'vitest';
import haproxy from '../../roles/haproxy/index.js';
import { SEED_FRONTENDS, frontendProblems, renderHaproxyCfg } from '../../roles/haproxy/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import { hostFacts } from './role-harness.js';

const facts = (osFamily: HostFacts['osFamily']): HostFacts => hostFacts({ osFamily, osId: osFamily, osVersion: '1', cpus: 2, memoryMb: 2048, hostname: 'vm1' });
// minimal-5vm as the seed lays it out (addresses: the seed's application network)
const peer = (name: string, address: string, groups: string[]): PeerHost => ({ name, address, groups, vars: {} });
const CP = ['control_plane', 'patroni', 'haproxy', 'keepalived', 'keycloak', 'nessie'];
const HOSTS = [
  peer('vm1', '10.20.0.11', CP),
  peer('vm2', '10.20.0.12', [...CP, 'grafana']),
  peer('vm3', '10.20.0.13', CP),
  peer('vm4', '10.20.0.21', ['data_plane', 'trino_coordinator', 'airflow', 'airflow_webserver', 'jupyterhub']),
  peer('vm5', '10.20.0.22', ['data_plane', 'airflow', 'airflow_worker']),
];
const group = (g: string) => HOSTS.filter((h) => h.groups.includes(g));
const defaults = Object.fromEntries(Object.entries(haproxy.vars).map(([k, s]) => [k, s.default]));
const ctx = (osFamily: HostFacts['osFamily'], vars: Record<string, unknown> = {}) =>
  ({ vars: { ...defaults, ...vars }, host: { ...HOSTS[0], facts: facts(osFamily) }, group, allHosts: () => HOSTS, exported: () => ({}), cluster: () => '' }) as RoleContext<any>;
const cfgOf = (osFamily: HostFacts['osFamily']) => {
  const op = haproxy.operations(ctx(osFamily)).find((o) => o.name === '/etc/haproxy/haproxy.cfg')!;
  const p = op.plan({ stat: null, sha256: null } as never) as { diff: { after: string }; script: string };
  return { text: p.diff.after, script: p.script };
};

describe('haproxy role', () => {
  it("defaults render the seed's frontends: PostgreSQL primary/replicas through Patroni's /primary and /replica on 8008", () => {
    const { text } = cfgOf('debian');
    expect(text).toContain(
      [
        'frontend postgres_primary',
        '    bind *:5000',
        '    mode tcp',
        '    option tcplog',
        '    timeout client 30m',
        '    default_backend postgres_primary',
        '',
        'backend postgres_primary',
        '    mode tcp',
        '    balance first',
        '    timeout server 30m',
        '    option httpchk GET /primary',
        '    http-check expect status 200',
        '    default-server inter 2s fall 2 rise 2 on-marked-down shutdown-sessions',
        '    server vm1 10.20.0.11:5432 check port 8008',
        '    server vm2 10.20.0.12:5432 check port 8008',
        '    server vm3 10.20.0.13:5432 check port 8008',
      ].join('\n'),
    );
    expect(text).toContain('frontend postgres_replicas\n    bind *:5001\n');
    expect(text).toContain('    option httpchk GET /replica\n');
    expect(text).toContain('backend postgres_replicas\n    mode tcp\n    balance roundrobin\n');
  });

  it('HTTP services by host name on port 80, each to its inventory group with its health check', () => {
    const { text } = cfgOf('debian');
    expect(text).toContain('frontend http\n    bind *:80\n    mode http\n    option httplog\n    option forwardfor\n');
    expect(text).toContain('    acl host_keycloak req.hdr(host),field(1,:) -i keycloak.datalyptica.local\n');
    expect(text).toContain('    use_backend keycloak if host_keycloak\n');
    expect(text).toContain('    http-request deny deny_status 404 unless host_keycloak || host_nessie || host_grafana || host_trino || host_airflow || host_jupyter\n');
    expect(text).toContain('backend grafana\n    mode http\n    balance roundrobin\n    option httpchk GET /api/health\n    http-check expect status 200\n    default-server inter 2s fall 2 rise 2\n    server vm2 10.20.0.12:3000 check\n');
    expect(text).toContain('    server vm4 10.20.0.21:8080 check\n'); // trino coordinator
    expect(text).toContain('    server vm1 10.20.0.11:19120 check\n'); // nessie
    // Airflow's web servers only (VM5 runs its Celery workers, no webserver); JupyterHub's proxy
    expect(text).toContain('backend airflow\n    mode http\n    balance roundrobin\n    option httpchk GET /health\n    http-check expect status 200\n    default-server inter 2s fall 2 rise 2\n    server vm4 10.20.0.21:8082 check\n\n');
    expect(text).toContain('backend jupyter\n    mode http\n    balance roundrobin\n    option httpchk GET /hub/health\n    http-check expect status 200\n    default-server inter 2s fall 2 rise 2\n    server vm4 10.20.0.21:8000 check\n');
    expect(text).toContain('frontend stats\n    bind *:8404\n');
    expect(text).toContain('    stats socket /run/haproxy/admin.sock mode 660 level admin\n');
  });

  it('the config is validated with haproxy -c before it replaces the old one, and a change reloads (not restarts)', () => {
    const ops = haproxy.operations(ctx('debian'));
    const file = ops.find((o) => o.name === '/etc/haproxy/haproxy.cfg')!;
    expect(file.notify).toEqual(['reload:haproxy']);
    expect(cfgOf('debian').script).toContain('haproxy -c -f "$t" ||');
    expect(ops.slice(1).map((o) => `${o.kind} ${o.name}`)).toEqual(['file /etc/haproxy/haproxy.cfg', 'service haproxy.service', 'waitForHttp http://127.0.0.1:8404/healthz']);
    expect(ops[0].fact!.command).toContain("dpkg-query -W -f='${Package} ${Status}\\n' haproxy");
  });

  it('RHEL: package haproxy, same config path, stats socket under /var/lib/haproxy', () => {
    const ops = haproxy.operations(ctx('redhat'));
    expect(ops[0].fact!.command).toContain('rpm -q');
    expect(ops[0].fact!.command).toContain('haproxy');
    expect(cfgOf('redhat').text).toContain('    stats socket /var/lib/haproxy/stats mode 660 level admin\n');
  });

  it('declares its ports; validate refuses bad frontend lists', () => {
    const d = haproxy.declares!(ctx('debian'));
    expect(d.ports!.map((p) => p.port)).toEqual([8404, 5000, 5001, 80]);
    expect(haproxy.validate!(ctx('debian'))).toEqual([]);
    const bad = [
      { name: 'a', port: 81, mode: 'tcp' as const, backends: [{ name: 'x', group: 'nope', port: 1, host: 'a.b' }, { name: 'x', group: 'patroni', port: 2 }] },
      { name: 'b', port: 81, mode: 'http' as const, backends: [{ name: 'y', group: 'patroni', port: 1 }, { name: 'z', group: 'patroni', port: 1 }] },
    ];
    expect(frontendProblems(bad, (g) => group(g).length > 0)).toEqual([
      'haproxy_frontends: a: a tcp frontend has exactly one backend (it has 2)',
      'haproxy_frontends: a: backend x: host routing needs mode http',
      'haproxy_frontends: a: backend x: inventory group nope does not exist',
      'haproxy_frontends: backend name x is used twice',
      'haproxy_frontends: port 81 is bound by two frontends',
      'haproxy_frontends: b: at most one backend without host (the default)',
    ]);
  });

  it('haproxy_extra_frontends come after the default list (minimal-5vm: the Nessie API on 19130), declared and checked with it', () => {
    const extra = [{ name: 'nessie_api', port: 19130, mode: 'http' as const, backends: [{ name: 'nessie_api', group: 'nessie', port: 19120, check: { path: '/api/v2/config' } }] }];
    const c = ctx('debian', { haproxy_extra_frontends: extra });
    expect(haproxy.declares!(c).ports!.map((p) => p.port)).toEqual([8404, 5000, 5001, 80, 19130]);
    expect(haproxy.validate!(c)).toEqual([]);
    const text = (haproxy.operations(c).find((o) => o.name === '/etc/haproxy/haproxy.cfg')!.plan({ stat: null, sha256: null } as never) as { diff: { after: string } }).diff.after;
    expect(text).toMatch(/frontend postgres_primary[^]*frontend http[^]*frontend nessie_api\n {4}bind \*:19130\n {4}mode http/);
    expect(haproxy.validate!(ctx('debian', { haproxy_extra_frontends: [{ ...extra[0], port: 5000 }] }))).toContain('haproxy_frontends: port 5000 is bound by two frontends');
  });

  it('a backend whose group has no hosts renders, and answers 503', () => {
    const text = renderHaproxyCfg({ frontends: [SEED_FRONTENDS[2]], statsPort: 8404, maxconn: 10, tcpTimeout: '30m', httpTimeout: '1m' }, () => [], { osFamily: 'debian' });
    expect(text).toContain('    # inventory group keycloak has no hosts: requests get 503\n');
  });
});
