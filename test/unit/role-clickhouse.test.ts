/**
 * The clickhouse role offline, against the three seeds: datalyptica-enterprise-50vm.md's 3 nodes (shards from host vars,
 * Keeper on ch01-03, ClickHouse 24.12 from ClickHouse's repository, RHEL 9), datalyptica-minimal-5vm.md's 2 nodes (one
 * shard, two replicas) and vps-trio-resource-analysis.md's two replicas on one VPS (instances, ZooKeeper, 24.8), and
 * Debian's 18.16 (the <yandex> root, no max_server_memory_usage). The real servers: test/integration/role-clickhouse.test.ts.
 */
import { describe, expect, it } from 'vitest';
import clickhouse from '../../roles/clickhouse/index.js';
import { aptKeyScript, features, healthCommand, networkEntry, servers, sha256Hex, shards } from '../../roles/clickhouse/render.js';
import type { Operation } from '../../src/ops/types.js';
import type { PeerHost } from '../../src/role/define.js';
import { sh } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const PW = 'admin-password-from-a-secret';
const ENTERPRISE: PeerHost[] = [
  peer('ch01', '10.20.40.31', ['clickhouse', 'clickhouse_keeper'], { node_id: 1, clickhouse_shard: 1, clickhouse_replica: '1' }),
  peer('ch02', '10.20.40.32', ['clickhouse', 'clickhouse_keeper'], { node_id: 2, clickhouse_shard: 1, clickhouse_replica: '2' }),
  peer('ch03', '10.20.40.33', ['clickhouse', 'clickhouse_keeper'], { node_id: 3, clickhouse_shard: 2, clickhouse_replica: '1' }),
];
const MINIMAL: PeerHost[] = [peer('vm4', '10.20.0.21', ['clickhouse', 'clickhouse_keeper'], { node_id: 4 }), peer('vm5', '10.20.0.22', ['clickhouse', 'clickhouse_keeper'], { node_id: 5 })];
const VPS_INSTANCES = [
  { id: '01', tcp_port: 9000, http_port: 8123, interserver_port: 9009, data_dir: '/clickhouse/01/data', log_dir: '/clickhouse/01/logs', max_server_memory_mb: 1536 },
  { id: '02', tcp_port: 19000, http_port: 18123, interserver_port: 19009, data_dir: '/clickhouse/02/data', log_dir: '/clickhouse/02/logs', max_server_memory_mb: 1536 },
];
const VPS2_VARS = {
  node_id: 1,
  clickhouse_instances: VPS_INSTANCES,
  resource_limits: { 'clickhouse-01': { memory_mb: 1843, cpus: 0.9 }, 'clickhouse-02': { memory_mb: 1843, cpus: 0.9 }, zookeeper: { memory_mb: 512, cpus: 0.1 } },
};
const VPS: PeerHost[] = [peer('vps2', 'vps2', ['clickhouse', 'zookeeper'], VPS2_VARS)];

function ctx(peers: PeerHost[], host: string, vars: Record<string, unknown> = {}, osFamily: 'debian' | 'redhat' = 'debian') {
  const self = peers.find((p) => p.name === host);
  return roleContext(clickhouse, { peers, host, facts: { osFamily }, vars: { ...(self?.vars ?? {}), ...vars }, cluster: { clickhouse_admin_password: PW } });
}
const ops = (peers: PeerHost[], host: string, vars: Record<string, unknown> = {}, osFamily: 'debian' | 'redhat' = 'debian') => clickhouse.operations(ctx(peers, host, vars, osFamily));
const file = (list: Operation<any>[], path: string) => written(named(list, 'file', path));
/** the text of one element (first match) */
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const all = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);

describe('clickhouse: datalyptica-enterprise-50vm.md (3 nodes, Keeper on ch01-03, 24.12 from the repository)', () => {
  const list = ops(ENTERPRISE, 'ch02');
  const cfg = file(list, '/etc/clickhouse-server/config.d/orch.xml');

  it('a <clickhouse> drop-in: the seed ports, /data/clickhouse, the host address for interserver, max_server_memory_usage', () => {
    expect(cfg.split('\n')[2]).toBe('<clickhouse>');
    expect(cfg.trim().endsWith('</clickhouse>')).toBe(true);
    expect([tag(cfg, 'http_port'), tag(cfg, 'tcp_port'), tag(cfg, 'interserver_http_port')]).toEqual(['8123', '9000', '9009']);
    expect(tag(cfg, 'interserver_http_host')).toBe('10.20.40.32');
    expect(tag(cfg, 'listen_host')).toBe('0.0.0.0');
    expect(all(cfg, 'path')).toEqual(['/data/clickhouse/', '/data/clickhouse/access/', '/clickhouse/task_queue/ddl']);
    expect(tag(cfg, 'tmp_path')).toBe('/data/clickhouse/tmp/');
    expect(tag(cfg, 'max_server_memory_usage')).toBe(String(32768 * 1024 * 1024));
    expect(cfg).not.toMatch(/mysql_port|postgresql_port/); // one server per host: the package's own ports stay
  });

  it("remote_servers analytics_cluster from the host vars: shard 1 = ch01 + ch02, shard 2 = ch03 (the seed's ch01 replica of shard 2 is not rendered)", () => {
    const rs = cfg.slice(cfg.indexOf('<remote_servers>'), cfg.indexOf('</remote_servers>'));
    expect(rs).toContain('<analytics_cluster>');
    const sh = rs.split('<shard>').slice(1);
    expect(sh.map((s) => all(s, 'host'))).toEqual([['10.20.40.31', '10.20.40.32'], ['10.20.40.33']]);
    expect(sh.every((s) => s.includes('<internal_replication>true</internal_replication>'))).toBe(true);
    expect(all(rs, 'port')).toEqual(['9000', '9000', '9000']);
  });

  it("macros per host; the <zookeeper> section is the seed's Keeper nodes ch01-03 on 9181", () => {
    const macros = cfg.slice(cfg.indexOf('<macros>'), cfg.indexOf('</macros>'));
    expect([tag(macros, 'cluster'), tag(macros, 'shard'), tag(macros, 'replica')]).toEqual(['analytics_cluster', '1', '2']);
    expect(tag(file(ops(ENTERPRISE, 'ch03'), '/etc/clickhouse-server/config.d/orch.xml').slice(cfg.indexOf('<macros>')), 'shard')).toBe('2');
    const zk = cfg.slice(cfg.indexOf('<zookeeper>'), cfg.indexOf('</zookeeper>'));
    expect(all(zk, 'host')).toEqual(['10.20.40.31', '10.20.40.32', '10.20.40.33']);
    expect(all(zk, 'port')).toEqual(['9181', '9181', '9181']);
  });

  it('users.d: the admin user with the sha256 of its password (never the password), default confined to loopback + the cluster', () => {
    const users = file(list, '/etc/clickhouse-server/users.d/orch.xml');
    expect(users).not.toContain(PW);
    expect(tag(users, 'password_sha256_hex')).toBe(sha256Hex(PW));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-2 test vector
    expect(users).toContain('<access_management>1</access_management>');
    const def = users.slice(users.indexOf('<default>'), users.indexOf('</default>'));
    expect(def).toContain('<networks replace="replace">');
    expect(all(def, 'ip')).toEqual(['::1', '127.0.0.1', '10.20.40.31', '10.20.40.32', '10.20.40.33']);
    expect(named(list, 'file', '/etc/clickhouse-server/users.d/orch.xml')!.secret).toBe(true);
  });

  it("ClickHouse's apt repository, its key checked by fingerprint, the packages held at 24.12.2.59 (apt preferences), not started on install", () => {
    expect(file(list, '/etc/apt/sources.list.d/clickhouse.list')).toBe("# Managed by orch: ClickHouse's package repository\ndeb [signed-by=/usr/share/keyrings/clickhouse-keyring.gpg] https://packages.clickhouse.com/deb stable main\n");
    const key = named(list, 'command', "ClickHouse's repository key in /usr/share/keyrings/clickhouse-keyring.gpg")!;
    expect(key).toBeDefined();
    expect(aptKeyScript('https://packages.clickhouse.com')).toContain("grep -q '^fpr:::::::::3A9EA1193A97B548BE1457D48919F6BD2B48D754:'");
    const pk = list.filter((o) => o.kind === 'packages').map((o) => o.name);
    expect(pk).toContain('clickhouse-common-static, clickhouse-server, clickhouse-client, curl');
    expect(file(list, '/etc/apt/preferences.d/clickhouse.pref')).toBe(
      "# Managed by orch: ClickHouse's packages at clickhouse_version\nPackage: clickhouse-common-static clickhouse-server clickhouse-client clickhouse-keeper\nPin: version 24.12.2.59\nPin-Priority: 1001\n",
    );
    // orch's unit: the official package's /usr/bin binary and config.xml
    const unit = written(named(list, 'unit', '/etc/systemd/system/clickhouse-server.service'));
    expect(unit).toContain('ExecStart=/usr/bin/clickhouse-server --config-file=/etc/clickhouse-server/config.xml\n');
    expect(unit).toContain('User=clickhouse\n');
  });

  it('RHEL 9 (the seed: lb and data tiers run RHEL): the yum repository and dnf pins', () => {
    const rh = ops(ENTERPRISE, 'ch01', {}, 'redhat');
    expect(file(rh, '/etc/yum.repos.d/clickhouse.repo')).toBe(
      [
        "# Managed by orch: ClickHouse's package repository",
        '[clickhouse-stable]',
        'name=ClickHouse - Stable Repository',
        'baseurl=https://packages.clickhouse.com/rpm/stable/',
        'enabled=1',
        'gpgcheck=0',
        'repo_gpgcheck=1',
        'gpgkey=https://packages.clickhouse.com/rpm/stable/repodata/repomd.xml.key',
        '',
      ].join('\n'),
    );
    expect(rh.filter((o) => o.kind === 'packages').map((o) => o.name)).toEqual(['clickhouse-common-static-24.12.2.59, clickhouse-server-24.12.2.59, clickhouse-client-24.12.2.59, curl']);
    expect(() => ops(ENTERPRISE, 'ch01', { clickhouse_source: 'distribution' }, 'redhat')).toThrow(/no clickhouse-server package/);
  });

  it('declares the three ports, the memory and the data dir; validate passes', () => {
    expect(clickhouse.declares!(ctx(ENTERPRISE, 'ch01'))).toEqual({
      ports: [
        { port: 8123, variable: 'clickhouse_http_port', description: 'ClickHouse HTTP' },
        { port: 9000, variable: 'clickhouse_tcp_port', description: 'ClickHouse native protocol' },
        { port: 9009, variable: 'clickhouse_interserver_port', description: 'ClickHouse interserver HTTP (replication)' },
      ],
      memoryMb: 32768,
      dataDirs: ['/data/clickhouse'],
    });
    expect(clickhouse.validate!(ctx(ENTERPRISE, 'ch01'))).toEqual([]);
  });
});

describe('clickhouse: datalyptica-minimal-5vm.md (VM4, VM5: one shard, two replicas, 2 Keepers)', () => {
  it('without host vars: shard 1, replicas named after the hosts, Keeper vm4/vm5', () => {
    const cfg = file(ops(MINIMAL, 'vm5'), '/etc/clickhouse-server/config.d/orch.xml');
    const macros = cfg.slice(cfg.indexOf('<macros>'), cfg.indexOf('</macros>'));
    expect([tag(macros, 'shard'), tag(macros, 'replica')]).toEqual(['1', 'vm5']);
    expect(shards(servers(MINIMAL, { tcpPort: 9000, httpPort: 8123, interserverPort: 9009, dataDir: '/data/clickhouse', logDir: '/var/log/clickhouse-server', maxServerMemoryMb: 32768 })).map((s) => s.replicas.map((r) => r.host))).toEqual([['vm4', 'vm5']]);
    const zk = cfg.slice(cfg.indexOf('<zookeeper>'), cfg.indexOf('</zookeeper>'));
    expect(all(zk, 'host')).toEqual(['10.20.0.21', '10.20.0.22']);
    expect(defaultsOf(clickhouse)).toMatchObject({ clickhouse_version: '24.12.2.59', clickhouse_http_port: 8123, clickhouse_tcp_port: 9000, clickhouse_interserver_port: 9009, clickhouse_data_dir: '/data/clickhouse', clickhouse_max_server_memory_mb: 32768 });
  });

  it('a local keeper: the server starts after clickhouse-keeper', () => {
    const unit = written(named(ops(MINIMAL, 'vm4'), 'unit', '/etc/systemd/system/clickhouse-server.service'));
    expect(unit).toContain('After=network-online.target time-sync.target clickhouse-keeper.service\n');
    // Keeper embedded in the server (enterprise-50vm): no unit of its own to wait for
    const emb = MINIMAL.map((p) => ({ ...p, vars: { ...p.vars, clickhouse_keeper_mode: 'embedded' } }));
    const embedded = written(named(ops(emb, 'vm4'), 'unit', '/etc/systemd/system/clickhouse-server.service'));
    expect(embedded).toContain('After=network-online.target time-sync.target\n');
  });
});

describe('clickhouse: vps-trio-resource-analysis.md (two replicas on one VPS, ZooKeeper, 24.8)', () => {
  const list = ops(VPS, 'vps2', { clickhouse_version: '24.8.4.13' });
  const cfg1 = file(list, '/etc/clickhouse-server/instances/01/config.d/orch.xml');
  const cfg2 = file(list, '/etc/clickhouse-server/instances/02/config.d/orch.xml');

  it('two instances: native 9000 and 19000, their own HTTP/interserver ports, data and log dirs, memory; replicas of one shard', () => {
    expect([tag(cfg1, 'tcp_port'), tag(cfg2, 'tcp_port')]).toEqual(['9000', '19000']);
    expect([tag(cfg2, 'http_port'), tag(cfg2, 'interserver_http_port')]).toEqual(['18123', '19009']);
    expect(tag(cfg2, 'path')).toBe('/clickhouse/02/data/');
    expect(tag(cfg2, 'log')).toBe('/clickhouse/02/logs/clickhouse-server.log');
    expect(tag(cfg1, 'max_server_memory_usage')).toBe(String(1536 * 1024 * 1024));
    expect([tag(cfg1, 'replica'), tag(cfg2, 'replica')]).toEqual(['vps2-01', 'vps2-02']);
    const rs = cfg1.slice(cfg1.indexOf('<remote_servers>'));
    expect(all(rs.slice(0, rs.indexOf('</remote_servers>')), 'port')).toEqual(['9000', '19000']);
    // the package's MySQL / PostgreSQL ports (9004, 9005) would clash on the second instance
    expect(cfg1).not.toContain('mysql_port');
    expect(cfg2).toContain('<mysql_port remove="1"/>\n    <postgresql_port remove="1"/>');
  });

  it('ZooKeeper of the zookeeper group on 2181 (the vps-trio document: localhost:2181)', () => {
    const zk = cfg2.slice(cfg2.indexOf('<zookeeper>'), cfg2.indexOf('</zookeeper>'));
    expect([all(zk, 'host'), all(zk, 'port')]).toEqual([['vps2'], ['2181']]);
    expect(networkEntry('vps2')).toBe('<host>vps2</host>');
    expect(networkEntry('10.0.0.1/8')).toBe('<ip>10.0.0.1/8</ip>');
  });

  it('instances: the package config read through links, template + drop-ins with the resource limits; the single server off', () => {
    expect(named(list, 'symlink', '/etc/clickhouse-server/instances/02/config.xml')).toBeDefined();
    const tpl = written(named(list, 'unit', '/etc/systemd/system/clickhouse-server@.service'));
    expect(tpl).toContain('ExecStart=/usr/bin/clickhouse-server --config-file=/etc/clickhouse-server/instances/%i/config.xml\n');
    expect(tpl).toContain('After=network-online.target time-sync.target zookeeper.service\n');
    const drop = written(list.find((o) => o.kind === 'instance' && o.name.includes('clickhouse-server@02')));
    expect(drop).toContain('MemoryMax=1843M\nCPUQuota=90%\n');
    const svc = list.find((o) => o.kind === 'service' && o.name.startsWith('clickhouse-server') && !o.name.includes('@'));
    expect(svc).toBeDefined();
    expect(clickhouse.declares!(ctx(VPS, 'vps2')).ports!.map((p) => p.port)).toEqual([8123, 9000, 9009, 18123, 19000, 19009]);
    expect(clickhouse.declares!(ctx(VPS, 'vps2')).memoryMb).toBe(3072);
  });

  it('rollout: one host at a time behind SELECT 1 and no read-only replica, for each instance', () => {
    const r = clickhouse.rollout!(ctx(VPS, 'vps2'));
    expect(r.services).toEqual(['clickhouse-server', 'clickhouse-server@*']);
    expect(r.serial).toBe(1);
    expect(r.health.command).toContain("http://127.0.0.1:18123/?query=SELECT%201'");
    expect(r.health.command).toContain('system.replicas%20WHERE%20is_readonly');
  });
});

describe("clickhouse: Debian's 18.16 (the tests' server)", () => {
  it('the <yandex> root, no max_server_memory_usage nor access control (18.16 has neither), /usr/sbin binary', () => {
    const list = ops(VPS, 'vps2', { clickhouse_source: 'distribution' });
    const cfg = file(list, '/etc/clickhouse-server/instances/02/config.d/orch.xml');
    expect(cfg.split('\n')[2]).toBe('<yandex>');
    expect(cfg).not.toMatch(/max_server_memory_usage|user_directories|mysql_port/);
    const users = file(list, '/etc/clickhouse-server/instances/01/users.d/orch.xml');
    expect(users.split('\n')[2]).toBe('<yandex>');
    expect(users).not.toContain('access_management');
    expect(written(named(list, 'unit', '/etc/systemd/system/clickhouse-server@.service'))).toContain('ExecStart=/usr/sbin/clickhouse-server ');
    expect(list.filter((o) => o.kind === 'packages').map((o) => o.name)).toEqual(['clickhouse-server, clickhouse-client, curl']);
    expect(list.find((o) => o.kind === 'command')!.name).toBe('the installed clickhouse-server is 18.16 (what the files are rendered for)');
  });

  it('features by version: <clickhouse> from 22.1, max_server_memory_usage from 20.4', () => {
    expect(features('21.8.15.7', 'repository').root).toBe('yandex');
    expect(features('22.1.3', 'repository').root).toBe('clickhouse');
    expect(features('18.16', 'distribution')).toMatchObject({ root: 'yandex', maxServerMemoryUsage: false, accessControl: false, binary: '/usr/sbin/clickhouse-server' });
    expect(features('24.12.2.59', 'repository')).toMatchObject({ root: 'clickhouse', maxServerMemoryUsage: true, accessControl: true, mysqlPort: true, postgresqlPort: true });
  });
});

describe('clickhouse: validation and checks', () => {
  it('refuses a replica name twice in a shard, clashing instance ports, replication without coordination, users without passwords', () => {
    const dup = ENTERPRISE.map((p) => (p.name === 'ch02' ? { ...p, vars: { ...p.vars, clickhouse_replica: '1' } } : p));
    expect(clickhouse.validate!(ctx(dup, 'ch01'))).toEqual(['ch01 and ch02 are both replica 1 of shard 1: give each a unique clickhouse_replica (or instance replica)']);
    const clash = [peer('vps2', 'vps2', ['clickhouse', 'zookeeper'], { clickhouse_instances: [VPS_INSTANCES[0], { ...VPS_INSTANCES[1], http_port: 8123 }] })];
    expect(clickhouse.validate!(ctx(clash, 'vps2'))).toEqual(["host vps2: port 8123 is both instance 01's http_port and instance 02's http_port"]);
    const lone = MINIMAL.map((p) => ({ ...p, groups: ['clickhouse'] }));
    expect(clickhouse.validate!(ctx(lone, 'vm4'))).toEqual(['a shard has more than one replica but no coordination service: put hosts in group clickhouse_keeper or zookeeper (clickhouse_coordination)']);
    expect(clickhouse.validate!(ctx(MINIMAL, 'vm4', { clickhouse_coordination: 'zookeeper' }))).toEqual([
      'a shard has more than one replica but no coordination service: put hosts in group clickhouse_keeper or zookeeper (clickhouse_coordination)',
      'clickhouse_coordination: zookeeper: group zookeeper has no hosts',
    ]);
    expect(clickhouse.validate!(ctx(MINIMAL, 'vm4', { clickhouse_users: [{ name: 'trino' }], clickhouse_passwords: { superset: 'x-long-password' } }))).toEqual([
      'clickhouse_users: trino has no password in clickhouse_passwords',
      'clickhouse_passwords: superset is not in clickhouse_users',
    ]);
    // datalyptica-minimal-5vm's data_plane has /data/clickhouse in common_data_dirs: the two roles would fight over it
    const mounts = MINIMAL.map((p) => ({ ...p, vars: { ...p.vars, common_data_dirs: ['/data', '/data/clickhouse', '/data/spark'] } }));
    expect(clickhouse.validate!(ctx(mounts, 'vm4'))).toEqual([
      'common_data_dirs has /data/clickhouse, which the clickhouse role owns (clickhouse:clickhouse 0750; common would make it root:root 0755 again on every run): leave it to the role',
    ]);
    expect(clickhouse.validate!(ctx(MINIMAL, 'other'))).toEqual(['host other runs clickhouse but is not in the inventory group clickhouse, whose hosts make the cluster']);
  });

  it('more users: their sha256 from clickhouse_passwords, profile and networks', () => {
    const users = file(ops(MINIMAL, 'vm4', { clickhouse_users: [{ name: 'trino', profile: 'readonly', networks: ['10.20.0.0/24'] }], clickhouse_passwords: { trino: 'trino-pass' } }), '/etc/clickhouse-server/users.d/orch.xml');
    const t = users.slice(users.indexOf('<trino>'), users.indexOf('</trino>'));
    expect([tag(t, 'password_sha256_hex'), tag(t, 'profile'), all(t, 'ip')]).toEqual([sha256Hex('trino-pass'), 'readonly', ['10.20.0.0/24']]);
    expect(users).not.toContain('trino-pass');
  });

  it('the admin password is a secret cluster value of group clickhouse, the inventory override winning', () => {
    const [spec] = clickhouse.clusterValues!(ctx(MINIMAL, 'vm4'));
    expect(spec).toMatchObject({ name: 'clickhouse_admin_password', group: 'clickhouse', secret: true, override: 'clickhouse_admin_password' });
    expect(spec.generate!()).toMatch(spec.pattern!);
  });

  it('the health command runs: fails with what is wrong, passes when SELECT 1 answers 1 and no replica is read-only', () => {
    const s = servers(VPS, { tcpPort: 9000, httpPort: 8123, interserverPort: 9009, dataDir: '/data/clickhouse', logDir: '/var/log/clickhouse-server', maxServerMemoryMb: 0 });
    const fake = (answers: string) => `curl() { for a; do u=$a; done; case "$u" in ${answers} esac; }\n`;
    const healthy = sh(`${fake(`*SELECT%201) echo 1;; *is_readonly) echo 0;;`)}(\n${healthCommand(s)}\n)`);
    expect(healthy.code).toBe(0);
    const ro = sh(`${fake(`*SELECT%201) echo 1;; *:18123*is_readonly) echo 1;; *is_readonly) echo 0;;`)}(\n${healthCommand(s)}\n)`);
    expect(ro).toEqual({ code: 1, stdout: 'clickhouse on :18123 has a read-only replica (system.replicas)\n' });
    const down = sh(`${fake(`*:8123*) return 7;; *) echo 1;;`)}(\n${healthCommand(s)}\n)`);
    expect(down).toEqual({ code: 1, stdout: 'clickhouse on :8123 does not answer SELECT 1\n' });
  });
});
