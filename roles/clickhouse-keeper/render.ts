/**
 * clickhouse-keeper: what the role writes and runs, as pure functions (unit-tested in
 * test/unit/role-clickhouse-keeper.test.ts against datalyptica-enterprise-50vm.md's keeper_server block): the Raft
 * members from the inventory group, the <keeper_server> drop-in (standalone keeper or embedded in the server), the
 * unit, and the four-letter-word checks (ruok, mntr) the health check and the rolling restart use.
 */
import type { PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/index.js';
import { xml } from '../clickhouse/render.js';

export const KEEPER_GROUP = 'clickhouse_keeper';

export interface Member {
  host: string;
  /** server_id: the host's `clickhouse_keeper_id`, else its `node_id` */
  id: number | undefined;
  address: string;
  port: number;
  raftPort: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : undefined);

/** The Raft members: every host of the group, in inventory order; a lone keeper without an id is server 1. */
export function members(peers: PeerHost[], d: { port: number; raftPort: number }): Member[] {
  return peers.map((p) => {
    const own = num(p.vars.clickhouse_keeper_id);
    const id = own !== undefined && own !== 0 ? own : num(p.vars.node_id);
    return {
      host: p.name,
      id: id === undefined && peers.length === 1 ? 1 : id,
      address: p.address,
      port: num(p.vars.clickhouse_keeper_port) ?? d.port,
      raftPort: num(p.vars.clickhouse_keeper_raft_port) ?? d.raftPort,
    };
  });
}

/** server_id problems: missing, below 1, or shared by two hosts. */
export function idProblems(ms: Member[]): string[] {
  const out: string[] = [];
  const seen = new Map<number, string>();
  for (const m of ms) {
    if (m.id === undefined) {
      out.push(`host ${m.host} has no ClickHouse Keeper server_id: set node_id (or clickhouse_keeper_id) to a number unique in group ${KEEPER_GROUP}`);
      continue;
    }
    if (!Number.isInteger(m.id) || m.id < 1) out.push(`host ${m.host}: ClickHouse Keeper server_id ${m.id} must be a positive integer`);
    const other = seen.get(m.id);
    if (other) out.push(`hosts ${other} and ${m.host} have the same ClickHouse Keeper server_id ${m.id}: give each a unique node_id or clickhouse_keeper_id`);
    else seen.set(m.id, m.host);
  }
  return out;
}

export interface KeeperConfigInput {
  root: 'clickhouse' | 'yandex';
  /** standalone: the keeper's own listen_host and logs; embedded: the server's */
  standalone: boolean;
  me: Member;
  members: Member[];
  dataDir: string;
  logDir: string;
  listenHosts: string[];
  fourLetterWords: string[];
  operationTimeoutMs: number;
  sessionTimeoutMs: number;
  raftLogsLevel: string;
}

const el = (name: string, value: string | number, indent: string) => `${indent}<${name}>${xml(value)}</${name}>`;

/**
 * The <keeper_server> drop-in, in the documented format (ClickHouse's "ClickHouse Keeper" guide): tcp_port, server_id,
 * log and snapshot storage paths, four_letter_word_white_list, coordination_settings and raft_configuration, which
 * replaces the package's one-server example.
 */
export function renderKeeperConfig(c: KeeperConfigInput): string {
  const L = [
    '<?xml version="1.0"?>',
    `<!-- Managed by orch (role clickhouse-keeper) - do not edit; the package's ${c.standalone ? 'keeper_config.xml' : 'config.xml'} stays as shipped -->`,
    `<${c.root}>`,
  ];
  if (c.standalone) {
    L.push('    <logger>', el('level', 'information', '        '), el('log', `${c.logDir}/clickhouse-keeper.log`, '        '), el('errorlog', `${c.logDir}/clickhouse-keeper.err.log`, '        '), '    </logger>');
    L.push(...c.listenHosts.map((h) => el('listen_host', h, '    ')));
    L.push(el('path', `${c.dataDir}/`, '    '));
  }
  L.push(
    '    <keeper_server>',
    el('tcp_port', c.me.port, '        '),
    el('server_id', c.me.id ?? 0, '        '),
    el('log_storage_path', `${c.dataDir}/coordination/log`, '        '),
    el('snapshot_storage_path', `${c.dataDir}/coordination/snapshots`, '        '),
    el('four_letter_word_white_list', c.fourLetterWords.join(','), '        '),
    '        <coordination_settings>',
    el('operation_timeout_ms', c.operationTimeoutMs, '            '),
    el('session_timeout_ms', c.sessionTimeoutMs, '            '),
    el('raft_logs_level', c.raftLogsLevel, '            '),
    '        </coordination_settings>',
    '        <raft_configuration replace="replace">',
  );
  for (const m of c.members) L.push('            <server>', el('id', m.id ?? 0, '                '), el('hostname', m.address, '                '), el('port', m.raftPort, '                '), '            </server>');
  L.push('        </raft_configuration>', '    </keeper_server>', `</${c.root}>`, '');
  return L.join('\n');
}

/** orch's unit for the standalone keeper (as ClickHouse's packages/clickhouse-keeper.service, its config and data dirs). */
export function renderKeeperUnit(binary: string, config: string): string {
  return [
    '[Unit]',
    'Description=ClickHouse Keeper - zookeeper compatible distributed coordination server',
    'Wants=network-online.target time-sync.target',
    'After=network-online.target time-sync.target',
    '',
    '[Service]',
    'Type=simple',
    'User=clickhouse',
    'Group=clickhouse',
    'RuntimeDirectory=clickhouse-keeper',
    `ExecStart=${binary} --config=${config} --pid-file=/run/clickhouse-keeper/clickhouse-keeper.pid`,
    'EnvironmentFile=-/etc/default/clickhouse-keeper',
    'Restart=always',
    'RestartSec=10',
    'LimitCORE=infinity',
    'LimitNOFILE=500000',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** sh: a member's answer to a four-letter word (netcat-openbsd or nmap-ncat). */
export function fourLetter(word: string, address: string, port: number): string {
  return `printf '%s' ${q(word)} | nc -w 5 ${q(address)} ${port}`;
}

/** sh: this member answers ruok with imok. */
export function ruokCommand(port: number): string {
  return `[ "$(${fourLetter('ruok', '127.0.0.1', port)})" = imok ]`;
}

/** sh: this member serves as leader, follower or standalone (mntr's zk_server_state). */
export function servingCommand(port: number): string {
  return `${fourLetter('mntr', '127.0.0.1', port)} | grep -Eq '^zk_server_state[[:space:]]+(leader|follower|standalone)$'`;
}

/** sh: this member leads (it restarts last). */
export function leaderCommand(port: number): string {
  return `${fourLetter('mntr', '127.0.0.1', port)} | grep -Eq '^zk_server_state[[:space:]]+leader$'`;
}

/** sh: exactly one member of the group reports zk_server_state leader in mntr (or the lone server standalone/leader). */
export function oneLeaderCommand(ms: Member[]): string {
  const each = ms.map((m) => `s=$(${fourLetter('mntr', m.address, m.port)} 2>/dev/null | sed -n 's/^zk_server_state[[:space:]]*//p'); [ "$s" = leader ] && n=$((n+1)); [ -n "$s" ] || down="$down ${m.host}"`);
  return [
    'n=0; down=""',
    ...each,
    `[ -z "$down" ] || { echo "no mntr answer from:$down"; exit 1; }`,
    ms.length === 1 ? `[ "$n" -le 1 ] || { echo "$n leaders"; exit 1; }` : `[ "$n" = 1 ] || { echo "$n leaders among ${ms.length} members"; exit 1; }`,
  ].join('\n');
}

/** sh: this member healthy: ruok answers imok, mntr shows it serving, the group has one leader. */
export function healthCommand(me: Member, ms: Member[]): string {
  return [
    `${ruokCommand(me.port)} || { echo 'ruok: no imok on :${me.port}'; exit 1; }`,
    `${servingCommand(me.port)} || { echo 'mntr: not serving on :${me.port}'; exit 1; }`,
    oneLeaderCommand(ms),
  ].join('\n');
}
