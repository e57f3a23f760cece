/**
 * The clickhouse-keeper role offline: datalyptica-enterprise-50vm.md's keeper_server block (3 members embedded in
 * ch01-ch03, tcp_port 9181, raft 9234, server_id 1-3) and datalyptica-minimal-5vm.md's two standalone keepers, against
 * ClickHouse's documented <keeper_server> format; server_id checks; the ruok/mntr health logic run with sh against a
 * fixture `nc` answering as Keeper does (mntr's tab-separated zk_server_state). No Keeper is reachable here to run.
 */
import { describe, expect, it } from 'vitest';
import keeper, { EMBEDDED_DROPIN, KEEPER_DROPIN } from '../../roles/clickhouse-keeper/index.js';
import { healthCommand, members } from '../../roles/clickhouse-keeper/render.js';
import type { PeerHost } from '../../src/role/define.js';
import { sh } from './ops-harness.js';
import { defaultsOf, named, peer, roleContext, written } from './role-harness.js';

const ENTERPRISE: PeerHost[] = [1, 2, 3].map((n) => peer(`ch0${n}`, `ch0${n}`, ['clickhouse', 'clickhouse_keeper'], { node_id: n }));
const MINIMAL: PeerHost[] = [peer('vm4', '10.20.0.21', ['clickhouse', 'clickhouse_keeper'], { node_id: 4 }), peer('vm5', '10.20.0.22', ['clickhouse', 'clickhouse_keeper'], { node_id: 5 })];
const LONE: PeerHost[] = [peer('k1', '10.0.0.5', ['clickhouse_keeper'])];

const ctx = (peers: PeerHost[], host: string, vars: Record<string, unknown> = {}, osFamily: 'debian' | 'redhat' = 'debian') => roleContext(keeper, { peers, host, vars, facts: { osFamily } });
const ops = (peers: PeerHost[], host: string, vars: Record<string, unknown> = {}, osFamily: 'debian' | 'redhat' = 'debian') => keeper.operations(ctx(peers, host, vars, osFamily));

/** the seed's block (datalyptica-enterprise-50vm.md, "ClickHouse Configuration"), as the role must render its members */
const SEED_RAFT = [
  { id: '1', hostname: 'ch01', port: '9234' },
  { id: '2', hostname: 'ch02', port: '9234' },
  { id: '3', hostname: 'ch03', port: '9234' },
];
const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
const raft = (xml: string) =>
  [...xml.slice(xml.indexOf('<raft_configuration'), xml.indexOf('</raft_configuration>')).matchAll(/<server>([\s\S]*?)<\/server>/g)].map((m) => ({ id: tag(m[1], 'id'), hostname: tag(m[1], 'hostname'), port: tag(m[1], 'port') }));

/**
 * The documented <keeper_server> format (ClickHouse's "ClickHouse Keeper" guide): the elements a member needs, in a
 * document whose root is clickhouse (or yandex), with raft_configuration's servers each id + hostname + port.
 */
function documentedFormatProblems(xml: string): string[] {
  const out: string[] = [];
  const root = /^<\?xml version="1.0"\?>\n<!--[^\n]*-->\n<(clickhouse|yandex)>\n[\s\S]*\n<\/\1>\n$/.exec(xml);
  if (!root) out.push('root element');
  const ks = xml.slice(xml.indexOf('<keeper_server>'), xml.indexOf('</keeper_server>'));
  for (const k of ['tcp_port', 'server_id', 'log_storage_path', 'snapshot_storage_path']) if (!tag(ks, k)) out.push(`keeper_server/${k}`);
  for (const k of ['operation_timeout_ms', 'session_timeout_ms', 'raft_logs_level']) if (!tag(ks.slice(ks.indexOf('<coordination_settings>')), k)) out.push(`coordination_settings/${k}`);
  const servers = raft(ks);
  if (!servers.length) out.push('raft_configuration/server');
  for (const s of servers) if (!s.id || !s.hostname || !s.port) out.push('raft_configuration/server: id, hostname, port');
  if (!servers.some((s) => s.id === tag(ks, 'server_id'))) out.push('server_id is not one of raft_configuration');
  return out;
}

describe('clickhouse-keeper: datalyptica-enterprise-50vm.md (embedded in ch01-ch03)', () => {
  const configs = ENTERPRISE.map((p) => written(named(ops(ENTERPRISE, p.name, { clickhouse_keeper_mode: 'embedded' }), 'file', EMBEDDED_DROPIN)));

  it("the seed's keeper_server: tcp_port 9181, server_id 1-3 from node_id, raft_configuration ch01-03 on 9234", () => {
    expect(configs.map((c) => tag(c, 'tcp_port'))).toEqual(['9181', '9181', '9181']);
    expect(configs.map((c) => tag(c, 'server_id'))).toEqual(['1', '2', '3']);
    for (const c of configs) expect(raft(c)).toEqual(SEED_RAFT);
    for (const c of configs) expect(documentedFormatProblems(c)).toEqual([]);
    // the package's one-server example is replaced, not merged into
    expect(configs[0]).toContain('<raft_configuration replace="replace">');
    expect(tag(configs[1], 'log_storage_path')).toBe('/data/clickhouse-keeper/coordination/log');
    expect(tag(configs[1], 'snapshot_storage_path')).toBe('/data/clickhouse-keeper/coordination/snapshots');
    expect(tag(configs[1], 'four_letter_word_white_list')).toBe('conf,cons,crst,envi,ruok,srst,srvr,stat,wchs,dirs,mntr,isro');
  });

  it("embedded: in the server's config.d with the server's root (<clickhouse> for 24.12), no listen_host/logger of its own, notifying the server", () => {
    expect(configs[0].split('\n')[2]).toBe('<clickhouse>');
    expect(configs[0]).not.toMatch(/listen_host|<logger>/);
    const op = named(ops(ENTERPRISE, 'ch01', { clickhouse_keeper_mode: 'embedded' }), 'file', EMBEDDED_DROPIN)!;
    expect(op.notify).toEqual(['clickhouse-server']);
    expect(keeper.rollout!(ctx(ENTERPRISE, 'ch01', { clickhouse_keeper_mode: 'embedded' })).services).toEqual(['clickhouse-server']);
  });

  it('declares 9181/9234, the data dir and a 3-member raft quorum protecting ClickHouse replication; validate passes', () => {
    expect(keeper.declares!(ctx(ENTERPRISE, 'ch01', { clickhouse_keeper_mode: 'embedded' }))).toEqual({
      ports: [
        { port: 9181, variable: 'clickhouse_keeper_port', description: 'ClickHouse Keeper clients' },
        { port: 9234, variable: 'clickhouse_keeper_raft_port', description: 'ClickHouse Keeper Raft' },
      ],
      dataDirs: ['/data/clickhouse-keeper'],
      quorum: [{ group: 'clickhouse_keeper', kind: 'raft', protects: 'ClickHouse replication' }],
    });
    expect(keeper.validate!(ctx(ENTERPRISE, 'ch02', { clickhouse_keeper_mode: 'embedded' }))).toEqual([]);
  });
});

describe('clickhouse-keeper: datalyptica-minimal-5vm.md (two standalone keepers on VM4/VM5)', () => {
  const list = ops(MINIMAL, 'vm5');
  const cfg = written(named(list, 'file', KEEPER_DROPIN));

  it('keeper_config.d/orch.xml beside the package keeper_config.xml: its own listen_host, logs, server_id 5, members vm4/vm5', () => {
    expect(documentedFormatProblems(cfg)).toEqual([]);
    expect(cfg.split('\n')[2]).toBe('<clickhouse>');
    expect(tag(cfg, 'listen_host')).toBe('0.0.0.0');
    expect(tag(cfg, 'log')).toBe('/var/log/clickhouse-keeper/clickhouse-keeper.log');
    expect(tag(cfg, 'server_id')).toBe('5');
    expect(raft(cfg)).toEqual([
      { id: '4', hostname: '10.20.0.21', port: '9234' },
      { id: '5', hostname: '10.20.0.22', port: '9234' },
    ]);
    expect(defaultsOf(keeper)).toMatchObject({ clickhouse_keeper_port: 9181, clickhouse_keeper_raft_port: 9234, clickhouse_keeper_data_dir: '/data/clickhouse-keeper', clickhouse_keeper_mode: 'standalone' });
  });

  it("orch's unit runs the keeper on the package's config; on a host with the server, the server package (it carries Keeper)", () => {
    const unit = written(named(list, 'unit', '/etc/systemd/system/clickhouse-keeper.service'));
    expect(unit).toContain('ExecStart=/usr/bin/clickhouse-keeper --config=/etc/clickhouse-keeper/keeper_config.xml --pid-file=/run/clickhouse-keeper/clickhouse-keeper.pid\n');
    expect(list.filter((o) => o.kind === 'packages').map((o) => o.name)).toEqual(['gnupg, curl, ca-certificates', 'clickhouse-common-static, clickhouse-server, netcat-openbsd']);
    expect(ops(LONE, 'k1').filter((o) => o.kind === 'packages').map((o) => o.name)[1]).toBe('clickhouse-keeper, netcat-openbsd');
    expect(ops(LONE, 'k1', {}, 'redhat').filter((o) => o.kind === 'packages').map((o) => o.name)).toEqual(['clickhouse-keeper-24.12.2.59, nmap-ncat']);
    expect(named(ops(LONE, 'k1', {}, 'redhat'), 'file', '/etc/yum.repos.d/clickhouse.repo')).toBeDefined();
  });

  it('declares the seed sizes (1 GB, 0.5 CPU) and a 2-member raft group, which orch plan flags', () => {
    expect(keeper.declares!(ctx(MINIMAL, 'vm4'))).toMatchObject({ memoryMb: 1024, cpus: 0.5, quorum: [{ group: 'clickhouse_keeper', kind: 'raft' }] });
  });
});

describe('clickhouse-keeper: server_id and 4lw checks', () => {
  it('server_id from clickhouse_keeper_id, else node_id; a lone keeper is 1; missing or shared ids refused', () => {
    expect(members([{ ...MINIMAL[0], vars: { node_id: 4, clickhouse_keeper_id: 9 } }], { port: 9181, raftPort: 9234 })[0].id).toBe(9);
    expect(tag(written(named(ops(LONE, 'k1'), 'file', KEEPER_DROPIN)), 'server_id')).toBe('1');
    const dup = ENTERPRISE.map((p) => (p.name === 'ch03' ? { ...p, vars: { node_id: 1 } } : p));
    expect(keeper.validate!(ctx(dup, 'ch01'))).toEqual(['hosts ch01 and ch03 have the same ClickHouse Keeper server_id 1: give each a unique node_id or clickhouse_keeper_id']);
    const none = ENTERPRISE.map((p) => (p.name === 'ch02' ? { ...p, vars: {} } : p));
    expect(keeper.validate!(ctx(none, 'ch01'))).toEqual(['host ch02 has no ClickHouse Keeper server_id: set node_id (or clickhouse_keeper_id) to a number unique in group clickhouse_keeper']);
    expect(keeper.validate!(ctx(MINIMAL, 'vm4', { clickhouse_keeper_4lw: ['ruok'] }))).toEqual(['clickhouse_keeper_4lw must keep mntr: the health check asks it']);
    expect(keeper.validate!(ctx(LONE, 'k1', { clickhouse_keeper_mode: 'embedded' }))).toEqual(['clickhouse_keeper_mode: embedded: host k1 runs no ClickHouse server (group clickhouse) to embed Keeper in']);
    expect(keeper.validate!(ctx(LONE, 'k1', { clickhouse_version: '21.3.20.1' }))).toEqual(['clickhouse_version 21.3.20.1: ClickHouse Keeper exists from 21.8']);
  });
});

describe('clickhouse-keeper: the health logic against a fixture answering ruok/mntr as Keeper does', () => {
  const ms = members(ENTERPRISE, { port: 9181, raftPort: 9234 });
  /** a fixture `nc`: for `printf WORD | nc -w 5 ADDRESS PORT`, Keeper's answer on that member (states by address) */
  const fixture = (states: Record<string, string | null>) =>
    [
      'nc() { w=$(cat); a=$3',
      '  case "$a" in 127.0.0.1) a=ch01;; esac',
      '  case "$a" in',
      ...Object.entries(states).map(([addr, st]) => `    ${addr}) ${st === null ? 'return 1' : `case "$w" in ruok) printf imok;; mntr) printf 'zk_version\\tv24.12.2.59-stable\\nzk_avg_latency\\t0\\nzk_server_state\\t%s\\nzk_znode_count\\t12\\n' ${st};; esac`};;`),
      '  esac; }',
    ].join('\n');
  const run = (states: Record<string, string | null>) => sh(`${fixture(states)}\n(\n${healthCommand(ms[0], ms)}\n)`);

  it('healthy: imok, serving, exactly one leader among the three', () => {
    expect(run({ ch01: 'follower', ch02: 'leader', ch03: 'follower' })).toEqual({ code: 0, stdout: '' });
  });
  it('no leader, two leaders, a member down, no imok: each fails saying so', () => {
    expect(run({ ch01: 'follower', ch02: 'follower', ch03: 'follower' })).toEqual({ code: 1, stdout: '0 leaders among 3 members\n' });
    expect(run({ ch01: 'leader', ch02: 'leader', ch03: 'follower' })).toEqual({ code: 1, stdout: '2 leaders among 3 members\n' });
    expect(run({ ch01: 'leader', ch02: 'follower', ch03: null })).toEqual({ code: 1, stdout: 'no mntr answer from: ch03\n' });
    expect(run({ ch01: null, ch02: 'leader', ch03: 'follower' })).toEqual({ code: 1, stdout: 'ruok: no imok on :9181\n' });
  });
  it('the leader goes last: leaderCommand exits 0 on the leader only', () => {
    const r = keeper.rollout!(ctx(ENTERPRISE, 'ch01'));
    expect(sh(`${fixture({ ch01: 'leader' })}\n(\n${r.leader}\n)`).code).toBe(0);
    expect(sh(`${fixture({ ch01: 'follower' })}\n(\n${r.leader}\n)`).code).toBe(1);
    expect(r.services).toEqual(['clickhouse-keeper']);
  });
});
