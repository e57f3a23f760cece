/**
 * The etcd role offline: its files rendered for the datalyptica minimal-5vm seed (etcd 3.5.16 on VM1-VM3,
 * 10.20.0.11-13, ports 2379/2380), Debian and RHEL paths and packages, the release archive per architecture with its
 * pinned sha256, the rejoin step's shell, validate, declarations and the cluster token. The rejoin, health and
 * leader commands run against a real etcd in test/integration/etcd.test.ts.
 */
import { describe, expect, it } from 'vitest';
import etcd from '../../roles/etcd/index.js';
import { healthCommand, initialCluster, leaderCommand, localEndpoint, members, rejoinScript, renderEnv, renderUnit, REJOIN_ENV } from '../../roles/etcd/render.js';
import type { HostFacts, PeerHost, RoleContext } from '../../src/role/define.js';
import type { Plan } from '../../src/ops/types.js';
import { sh } from './ops-harness.js';
import { defaultsOf, named, roleContext, written } from './role-harness.js';

// the seed's control plane: VM1-VM3 on the application network
const SEED: PeerHost[] = [
  { name: 'vm1', address: '10.20.0.11', groups: ['control_plane', 'etcd'], vars: {} },
  { name: 'vm2', address: '10.20.0.12', groups: ['control_plane', 'etcd'], vars: {} },
  { name: 'vm3', address: '10.20.0.13', groups: ['control_plane', 'etcd'], vars: {} },
];
const defaults = defaultsOf(etcd);

function ctx(o: { host?: string; osFamily?: HostFacts['osFamily']; arch?: string; vars?: Record<string, unknown>; peers?: PeerHost[] } = {}): RoleContext<any> {
  return roleContext(etcd, {
    peers: o.peers ?? SEED,
    host: o.host ?? 'vm1',
    facts: { osFamily: o.osFamily ?? 'debian', arch: o.arch ?? 'x86_64', cpus: 32, memoryMb: 131072 },
    vars: o.vars,
    cluster: { etcd_initial_cluster_token: 'etcd-0123456789abcdef01234567' },
  });
}

const opsOf = (c: RoleContext<any>) => etcd.operations(c);

describe('etcd role: defaults are the seeds\' values', () => {
  it('etcd 3.5.16 from the release, ports 2379/2380, group etcd', () => {
    expect(defaults).toMatchObject({ etcd_source: 'release', etcd_version: '3.5.16', etcd_client_port: 2379, etcd_peer_port: 2380, etcd_data_dir: '/var/lib/etcd' });
    expect(etcd.declares!(ctx())).toEqual({
      ports: [
        { port: 2379, variable: 'etcd_client_port', description: 'etcd client API' },
        { port: 2380, variable: 'etcd_peer_port', description: 'etcd peers (Raft)' },
      ],
      memoryMb: 2048,
      cpus: 1,
      dataDirs: ['/var/lib/etcd'],
      quorum: [{ group: 'etcd', kind: 'raft', protects: 'etcd writes, and with them Patroni leader elections (PostgreSQL failover)' }],
    });
    for (const [k, s] of Object.entries(etcd.vars)) expect(s.doc, k).not.toBe('');
  });
});

describe('etcd role: rendered files', () => {
  it('the environment file of VM1: its URLs, the initial cluster of the group, the token, state new', () => {
    expect(written(named(opsOf(ctx()), 'file', '/etc/default/etcd'))).toBe(
      [
        '# Managed by orch (role etcd) - do not edit',
        'ETCD_NAME=vm1',
        'ETCD_DATA_DIR=/var/lib/etcd',
        'ETCD_LISTEN_PEER_URLS=http://0.0.0.0:2380',
        'ETCD_LISTEN_CLIENT_URLS=http://0.0.0.0:2379',
        'ETCD_INITIAL_ADVERTISE_PEER_URLS=http://10.20.0.11:2380',
        'ETCD_ADVERTISE_CLIENT_URLS=http://10.20.0.11:2379',
        'ETCD_INITIAL_CLUSTER=vm1=http://10.20.0.11:2380,vm2=http://10.20.0.12:2380,vm3=http://10.20.0.13:2380',
        'ETCD_INITIAL_CLUSTER_TOKEN=etcd-0123456789abcdef01234567',
        'ETCD_INITIAL_CLUSTER_STATE=new',
        'ETCD_HEARTBEAT_INTERVAL=100',
        'ETCD_ELECTION_TIMEOUT=1000',
        '',
      ].join('\n'),
    );
  });

  it('member names, per-host ports, IPv6 addresses and extra settings', () => {
    const peers: PeerHost[] = [
      { name: 'a', address: 'fd00::1', groups: ['etcd'], vars: { etcd_name: 'etcd-a' } },
      { name: 'b', address: 'b.example', groups: ['etcd'], vars: { etcd_peer_port: 12380, etcd_client_port: 12379 } },
    ];
    const ms = members(peers, { clientPort: 2379, peerPort: 2380 });
    expect(ms).toEqual([
      { name: 'etcd-a', host: 'a', peerUrl: 'http://[fd00::1]:2380', clientUrl: 'http://[fd00::1]:2379' },
      { name: 'b', host: 'b', peerUrl: 'http://b.example:12380', clientUrl: 'http://b.example:12379' },
    ]);
    expect(initialCluster(ms)).toBe('etcd-a=http://[fd00::1]:2380,b=http://b.example:12380');
    const env = renderEnv({ me: ms[1], members: ms, token: 't', dataDir: '/data/etcd/data', listenAddress: '10.0.0.2', clientPort: 12379, peerPort: 12380, heartbeatMs: 100, electionMs: 1000, extra: { ETCD_QUOTA_BACKEND_BYTES: 4294967296, ETCD_AUTO_COMPACTION_RETENTION: '1' } });
    expect(env).toContain('ETCD_LISTEN_CLIENT_URLS=http://10.0.0.2:12379\n');
    expect(env.endsWith('ETCD_AUTO_COMPACTION_RETENTION=1\nETCD_QUOTA_BACKEND_BYTES=4294967296\n')).toBe(true);
    expect(localEndpoint('10.0.0.2', 12379)).toBe('http://10.0.0.2:12379');
    expect(localEndpoint('0.0.0.0', 2379)).toBe('http://127.0.0.1:2379');
  });

  it('the unit: our own, Type=notify as etcd, the environment file then the rejoin override', () => {
    expect(renderUnit({ etcd: '/opt/etcd/current/etcd', env: '/etc/default/etcd', name: 'vm1' })).toBe(
      [
        '[Unit]',
        'Description=etcd key-value store, member vm1 (managed by orch)',
        'Documentation=https://etcd.io/docs',
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Service]',
        'Type=notify',
        'User=etcd',
        'Group=etcd',
        'EnvironmentFile=/etc/default/etcd',
        `EnvironmentFile=-${REJOIN_ENV}`,
        'ExecStart=/opt/etcd/current/etcd',
        'Restart=on-failure',
        'RestartSec=5',
        'TimeoutStartSec=300',
        'LimitNOFILE=65536',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    );
  });
});

describe('etcd role: sources, by OS family', () => {
  it('release (default): the GitHub archive for the host architecture with the pinned sha256, /opt/etcd/current, etcdctl on PATH', () => {
    const list = opsOf(ctx());
    const art = named(list, 'artifact')!;
    expect(art.name).toBe('/opt/etcd/releases/3.5.16');
    const p = art.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;
    expect(p.reason).toBe('download etcd-v3.5.16-linux-amd64.tar.gz (sha256 b414b27a5ad0..) and unpack, /opt/etcd/current: create link -> /opt/etcd/releases/3.5.16');
    expect(p.script).toContain('sha256sum <"$f"');
    expect(list.filter((o) => o.kind === 'symlink').map((o) => o.name)).toEqual(['/usr/local/bin/etcdctl', '/usr/local/bin/etcdutl']);
    expect(named(list, 'packages')).toBeUndefined();
    expect(written(named(list, 'unit'))).toContain('ExecStart=/opt/etcd/current/etcd\n');
    const arm = named(opsOf(ctx({ arch: 'aarch64' })), 'artifact')!.plan({ marker: null, dest: null, link: {} });
    expect(arm.reason).toContain('etcd-v3.5.16-linux-arm64.tar.gz (sha256 8e68c55e6d72..)');
    expect(() => opsOf(ctx({ arch: 'riscv64' }))).toThrow(/architecture riscv64/);
  });

  it('release from a mirror with a test build\'s sha512', () => {
    const art = named(opsOf(ctx({ vars: { artifact_mirror: 'http://127.0.0.1:9/m/', etcd_sha512: 'ab'.repeat(64) } })), 'artifact')!;
    const p = art.plan({ marker: null, dest: null, link: {} }) as Extract<Plan, { status: 'change' }>;
    expect(p.script).toContain('http://127.0.0.1:9/m/v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz');
    expect(p.reason).toContain('(sha512 abababababab..)');
  });

  it('Debian package: etcd-server + etcd-client, not started by the install, /usr/bin, /etc/default/etcd', () => {
    const list = opsOf(ctx({ vars: { etcd_source: 'package' } }));
    const pkg = named(list, 'packages')!;
    expect(pkg.name).toBe('etcd-server, etcd-client');
    const p = pkg.plan({ installed: [], listsPresent: true }) as Extract<Plan, { status: 'change' }>;
    expect(p.reason).toContain('not starting etcd.service');
    expect(p.script).toContain('systemctl mask --runtime etcd.service');
    expect(named(list, 'artifact')).toBeUndefined();
    expect(written(named(list, 'unit'))).toContain('ExecStart=/usr/bin/etcd\nRestart=on-failure');
    expect(written(named(list, 'unit'))).toContain('EnvironmentFile=/etc/default/etcd\n');
    // the account comes first, so the package's postinst finds it and adds none of its own
    expect(list.slice(0, 3).map((o) => `${o.kind} ${o.name}`)).toEqual(['group etcd', 'user etcd', 'packages etcd-server, etcd-client']);
  });

  it('RHEL: the package is etcd (Fedora/EPEL), the settings in /etc/etcd/etcd.conf; release the same archive', () => {
    const list = opsOf(ctx({ osFamily: 'redhat', vars: { etcd_source: 'package' } }));
    expect(named(list, 'packages')!.name).toBe('etcd');
    expect(named(list, 'packages')!.fact!.command).toContain('rpm -q');
    expect(named(list, 'dir', '/etc/etcd')).toBeDefined();
    expect(written(named(list, 'file', '/etc/etcd/etcd.conf'))).toContain('ETCD_INITIAL_CLUSTER=vm1=http://10.20.0.11:2380,');
    expect(written(named(list, 'unit'))).toContain('EnvironmentFile=/etc/etcd/etcd.conf\n');
    const rel = opsOf(ctx({ osFamily: 'redhat' }));
    expect(named(rel, 'artifact')!.name).toBe('/opt/etcd/releases/3.5.16');
    expect(written(named(rel, 'unit'))).toContain('ExecStart=/opt/etcd/current/etcd\n');
  });

  it('operations in order: account, install, data dir 0700, config, unit, rejoin guard, start, port, health', () => {
    const list = opsOf(ctx({ vars: { etcd_source: 'package' } }));
    expect(list.map((o) => o.kind)).toEqual(['group', 'user', 'packages', 'dir', 'file', 'unit', 'command', 'service', 'waitForPort', 'command']);
    const rejoin = list[6];
    expect(rejoin.fact!.command).toContain('[ -d /var/lib/etcd/member ]');
    expect(list[9].name).toBe('etcd: this member is healthy (etcdctl endpoint health)');
    expect(list[4].notify).toEqual(['etcd']);
    expect(list[5].notify).toEqual(['etcd']);
  });
});

describe('etcd role: the rejoin step (a member without data)', () => {
  const ms = members(SEED, { clientPort: 2379, peerPort: 2380 });
  const script = rejoinScript({ me: ms[2], members: ms, etcdctl: '/usr/bin/etcdctl', dataDir: '/var/lib/etcd' });

  it('asks only the other members, and is valid POSIX sh', () => {
    expect(script).toContain('for e in http://10.20.0.11:2379 http://10.20.0.12:2379; do');
    expect(script).not.toContain('10.20.0.13:2379');
    expect(sh(`sh -n <<'EOF'\n${script}\nEOF`).code).toBe(0);
  });

  it('with no member answering it bootstraps (state new) and leaves no override', () => {
    // an etcdctl that never reaches anyone
    const r = sh(`set -e; ( ${script.replace(/\/usr\/bin\/etcdctl/g, 'false')}\n)`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no other member of the cluster answers: vm3 bootstraps it (initial-cluster-state new)\n');
  });

  it('with the cluster answering, a member listed as started under its peer URL is removed and added again', () => {
    // a fake etcdctl: healthy, lists vm3 as started, records what it was asked
    const fake = [
      'case "$*" in',
      '  *"endpoint health"*) exit 0;;',
      '  *"member list"*) printf "%s\\n" "aa, started, vm1, http://10.20.0.11:2380, http://10.20.0.11:2379, false" "cc, started, vm3, http://10.20.0.13:2380, http://10.20.0.13:2379, false";;',
      '  *) echo "$*" >>"$LOG";;',
      'esac',
    ].join('\n');
    const dirOut = sh('mktemp -d').stdout.trim();
    const r = sh(
      [
        `cat >${dirOut}/etcdctl <<'EOF'\n#!/bin/sh\n${fake}\nEOF`,
        `chmod +x ${dirOut}/etcdctl`,
        `mkdir ${dirOut}/bin && printf '#!/bin/sh\\necho "systemctl $*" >>"$LOG"\\n' >${dirOut}/bin/systemctl && chmod +x ${dirOut}/bin/systemctl`,
        `export LOG=${dirOut}/log PATH=${dirOut}/bin:$PATH`,
        `( set -e\n${script.replace(/\/usr\/bin\/etcdctl/g, `${dirOut}/etcdctl`).replaceAll(REJOIN_ENV, `${dirOut}/rejoin.env`)}\n)`,
        `cat ${dirOut}/log; cat ${dirOut}/rejoin.env`,
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    const calls = r.stdout.split('\n').filter((l) => /member (remove|add)|^systemctl|^ETCD_/.test(l));
    expect(calls).toEqual([
      'systemctl stop etcd',
      '--dial-timeout=3s --command-timeout=15s --endpoints=http://10.20.0.11:2379 member remove cc',
      '--dial-timeout=3s --command-timeout=15s --endpoints=http://10.20.0.11:2379 member add vm3 --peer-urls=http://10.20.0.13:2380',
      'systemctl daemon-reload',
      'systemctl start etcd',
      'ETCD_INITIAL_CLUSTER_STATE=existing',
    ]);
    expect(r.stdout).toContain('removed member cc (vm3, its data is gone)');
  });

  it('when re-adding fails it stops naming the host and the commands to finish by hand', () => {
    const r = sh(`( set -e\n${script.replace(/\/usr\/bin\/etcdctl/g, 'sh -c \'case "$*" in *health*) exit 0;; *) exit 1;; esac\' x')}\n) 2>&1`);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('orch: etcd member vm3 (vm3) has no data in /var/lib/etcd but its cluster answers at http://10.20.0.11:2379: etcdctl member list failed;');
    expect(r.stdout).toContain('etcdctl --endpoints=http://10.20.0.11:2379 member add vm3 --peer-urls=http://10.20.0.13:2380;');
    expect(r.stdout).not.toContain('@EP@');
  });
});

describe('etcd role: health, leader, validate, token', () => {
  it('health and leader commands ask the local member', () => {
    expect(healthCommand('/usr/bin/etcdctl', 'http://127.0.0.1:2379')).toBe(
      'ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=http://127.0.0.1:2379 --dial-timeout=3s --command-timeout=5s endpoint health',
    );
    const leader = leaderCommand('/usr/bin/etcdctl', 'http://127.0.0.1:2379');
    const fields = (m: string, l: string) => `"ClusterID" : 1\\n"MemberID" : ${m}\\n"Leader" : ${l}\\n`;
    const withFake = (out: string) => sh(leader.replace(/ETCDCTL_API=3 \/usr\/bin\/etcdctl[^)]*/, `printf '${out}'`)).code;
    expect(withFake(fields('7', '7'))).toBe(0);
    expect(withFake(fields('7', '9'))).toBe(1);
    expect(withFake('')).toBe(1);
    const rollout = etcd.rollout!(ctx());
    expect(rollout.services).toEqual(['etcd']);
    expect(rollout.health.command).toContain('endpoint health');
    expect(rollout.leader).toBe(leader.replace('/usr/bin/etcdctl', '/opt/etcd/current/etcdctl'));
  });

  it('validate: the host must be in group etcd, member names unique, extra settings ETCD_*', () => {
    expect(etcd.validate!(ctx())).toEqual([]);
    expect(etcd.validate!(ctx({ host: 'vm9' }))).toEqual(['host vm9 runs etcd but is not in the inventory group etcd, whose hosts make the cluster']);
    const dup = SEED.map((p, i) => (i === 2 ? { ...p, vars: { etcd_name: 'vm1' } } : p));
    expect(etcd.validate!(ctx({ peers: dup }))).toEqual(['hosts vm1 and vm3 have the same etcd member name vm1: set etcd_name on one of them']);
    expect(etcd.validate!(ctx({ vars: { etcd_extra: { quota: 1 } } }))).toEqual(['etcd_extra: quota is not an ETCD_* setting']);
  });

  it('the token is a cluster value of group etcd, read back from the environment file, overridable', () => {
    const [spec] = etcd.clusterValues!(ctx());
    expect(spec).toMatchObject({ name: 'etcd_initial_cluster_token', group: 'etcd', override: 'etcd_initial_cluster_token' });
    expect(spec.generate!()).toMatch(/^etcd-[0-9a-f]{24}$/);
    expect(spec.pattern!.test(spec.generate!())).toBe(true);
    const dirOut = sh('mktemp -d').stdout.trim();
    const r = sh(`printf 'ETCD_NAME=vm1\\nETCD_INITIAL_CLUSTER_TOKEN=etcd-abc\\n' >${dirOut}/etcd; ${spec.read!.replace('/etc/default/etcd', `${dirOut}/etcd`)}`);
    expect(r.stdout).toBe('etcd-abc\n');
  });
});
