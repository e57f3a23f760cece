/**
 * clickhouse: what the role writes and runs, as pure functions (unit-tested in test/unit/role-clickhouse.test.ts
 * against the three seeds): the servers of the cluster (hosts or instances, shard and replica each), the config.d and
 * users.d drop-ins for the version installed (root element, the settings that version knows), the repository of
 * ClickHouse's packages, the systemd units and the health checks.
 */
import { createHash } from 'node:crypto';
import type { HostFacts, PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/index.js';

export const CH_GROUP = 'clickhouse';
export const KEEPER_GROUP = 'clickhouse_keeper';
export const ZK_GROUP = 'zookeeper';
export const KEEPER_PORT = 9181;
export const ZK_PORT = 2181;

/** The version Debian 12 and Ubuntu ship as `clickhouse-server` (18.16.1+ds): what `distribution` installs. */
export const DISTRIBUTION_VERSION = '18.16';

// ---------------------------------------------------------------- versions

export function parseVersion(v: string): [number, number] {
  const m = /^([0-9]+)\.([0-9]+)/.exec(v);
  if (!m) throw new Error(`clickhouse: version ${JSON.stringify(v)}: expected MAJOR.MINOR[.PATCH[.BUILD]], e.g. 24.12.2.59`);
  return [Number(m[1]), Number(m[2])];
}

/** What the installed version reads: its config root element and the settings it knows. */
export interface Features {
  /** `<clickhouse>` from 22.1 (21.10/21.11 already accept it); `<yandex>` before, as 18.16's config.xml has */
  root: 'clickhouse' | 'yandex';
  /** max_server_memory_usage (20.4+; 18.16 has only the per-query max_memory_usage) */
  maxServerMemoryUsage: boolean;
  /** SQL access control: user_directories/local_directory and a user's access_management (20.5+) */
  accessControl: boolean;
  /** the package's config.xml listens for the MySQL (20.1+) and PostgreSQL (21.1+) wire protocols on 9004 / 9005 */
  mysqlPort: boolean;
  postgresqlPort: boolean;
  /** the server package ships /usr/bin/clickhouse-server (the official packages), else /usr/sbin (Debian's 18.16) */
  binary: string;
}

export function features(version: string, source: 'repository' | 'distribution'): Features {
  const [a, b] = parseVersion(version);
  const ge = (x: number, y: number) => a > x || (a === x && b >= y);
  return {
    root: ge(22, 1) ? 'clickhouse' : 'yandex',
    maxServerMemoryUsage: ge(20, 4),
    accessControl: ge(20, 5),
    mysqlPort: ge(20, 1),
    postgresqlPort: ge(21, 1),
    binary: source === 'distribution' ? '/usr/sbin/clickhouse-server' : '/usr/bin/clickhouse-server',
  };
}

// ---------------------------------------------------------------- the cluster's servers

export interface InstanceVar {
  id: string;
  shard?: number;
  replica?: string;
  tcp_port: number;
  http_port: number;
  interserver_port: number;
  data_dir?: string;
  log_dir?: string;
  max_server_memory_mb?: number;
}

/** One ClickHouse server of the cluster: a host's single server, or one instance of a host. */
export interface Server {
  host: string;
  address: string;
  /** '' for a host's single server (unit clickhouse-server), else the instance id (clickhouse-server@ID) */
  id: string;
  shard: number;
  replica: string;
  tcpPort: number;
  httpPort: number;
  interserverPort: number;
  dataDir: string;
  logDir: string;
  maxServerMemoryMb: number;
}

export interface ServerDefaults {
  tcpPort: number;
  httpPort: number;
  interserverPort: number;
  dataDir: string;
  logDir: string;
  maxServerMemoryMb: number;
}

const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : d);
const str = (v: unknown, d: string): string => (v === undefined || v === null || v === '' ? d : String(v));
const trim = (p: string) => p.replace(/\/+$/, '');

/**
 * Every server of the cluster, host by host in inventory order: a host with `clickhouse_instances` runs those (its
 * replica names default to HOST-ID), any other host one server with its `clickhouse_shard` (default 1) and
 * `clickhouse_replica` (default: the host name). A peer's own variables win over the defaults of this host.
 */
export function servers(peers: PeerHost[], d: ServerDefaults): Server[] {
  return peers.flatMap((p) => {
    const pv = p.vars;
    const dataDir = trim(str(pv.clickhouse_data_dir, d.dataDir));
    const logDir = trim(str(pv.clickhouse_log_dir, d.logDir));
    const mem = num(pv.clickhouse_max_server_memory_mb, d.maxServerMemoryMb);
    const list = Array.isArray(pv.clickhouse_instances) ? (pv.clickhouse_instances as InstanceVar[]) : [];
    if (list.length) {
      return list.map((i) => ({
        host: p.name,
        address: p.address,
        id: String(i.id),
        shard: num(i.shard, 1),
        replica: str(i.replica, `${p.name}-${i.id}`),
        tcpPort: i.tcp_port,
        httpPort: i.http_port,
        interserverPort: i.interserver_port,
        dataDir: trim(i.data_dir ?? `${dataDir}/${i.id}`),
        logDir: trim(i.log_dir ?? `${logDir}/${i.id}`),
        maxServerMemoryMb: num(i.max_server_memory_mb, mem),
      }));
    }
    return [
      {
        host: p.name,
        address: p.address,
        id: '',
        shard: num(pv.clickhouse_shard, 1),
        replica: str(pv.clickhouse_replica, p.name),
        tcpPort: num(pv.clickhouse_tcp_port, d.tcpPort),
        httpPort: num(pv.clickhouse_http_port, d.httpPort),
        interserverPort: num(pv.clickhouse_interserver_port, d.interserverPort),
        dataDir,
        logDir,
        maxServerMemoryMb: mem,
      },
    ];
  });
}

/** The shards, by number, each with its replicas in inventory order. */
export function shards(ss: Server[]): Array<{ shard: number; replicas: Server[] }> {
  const by = new Map<number, Server[]>();
  for (const s of ss) by.set(s.shard, [...(by.get(s.shard) ?? []), s]);
  return [...by].sort(([a], [b]) => a - b).map(([shard, replicas]) => ({ shard, replicas }));
}

/** The layout's problems: replica names unique in a shard, ports unique on a host, replication needs coordination. */
export function layoutProblems(ss: Server[], coordination: Endpoint[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const s of ss) {
    const k = `${s.shard}/${s.replica}`;
    const who = s.id ? `${s.host} instance ${s.id}` : s.host;
    const other = seen.get(k);
    if (other) out.push(`${other} and ${who} are both replica ${s.replica} of shard ${s.shard}: give each a unique clickhouse_replica (or instance replica)`);
    else seen.set(k, who);
    if (!Number.isInteger(s.shard) || s.shard < 1) out.push(`${who}: shard ${s.shard} must be a number from 1`);
    if (!/^[A-Za-z0-9_.-]+$/.test(s.replica)) out.push(`${who}: replica name ${JSON.stringify(s.replica)} may have letters, digits, _ . - only`);
  }
  const byHost = new Map<string, Server[]>();
  for (const s of ss) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
  for (const [host, list] of byHost) {
    const ports = new Map<number, string>();
    for (const s of list) {
      for (const [port, what] of [
        [s.tcpPort, 'tcp_port'],
        [s.httpPort, 'http_port'],
        [s.interserverPort, 'interserver_port'],
      ] as const) {
        const o = ports.get(port);
        if (o) out.push(`host ${host}: port ${port} is both ${o} and ${s.id ? `instance ${s.id}'s` : 'the'} ${what}`);
        else ports.set(port, `${s.id ? `instance ${s.id}'s` : 'the'} ${what}`);
      }
    }
    const dirs = list.map((s) => s.dataDir);
    if (new Set(dirs).size !== dirs.length) out.push(`host ${host}: two instances share the data directory (${dirs.join(', ')})`);
  }
  if (!coordination.length && shards(ss).some((s) => s.replicas.length > 1)) {
    out.push('a shard has more than one replica but no coordination service: put hosts in group clickhouse_keeper or zookeeper (clickhouse_coordination)');
  }
  return out;
}

// ---------------------------------------------------------------- coordination (the <zookeeper> section)

export interface Endpoint {
  host: string;
  address: string;
  port: number;
}

export type Coordination = 'auto' | 'keeper' | 'zookeeper' | 'none';

/** The coordination service's nodes: ClickHouse Keeper's group (9181) or ZooKeeper's (2181); auto: Keeper's if it has hosts. */
export function coordinationNodes(mode: Coordination, keeper: PeerHost[], zk: PeerHost[]): { kind: 'keeper' | 'zookeeper' | 'none'; nodes: Endpoint[] } {
  const kind = mode === 'auto' ? (keeper.length ? 'keeper' : zk.length ? 'zookeeper' : 'none') : mode;
  if (kind === 'keeper') return { kind, nodes: keeper.map((p) => ({ host: p.name, address: p.address, port: num(p.vars.clickhouse_keeper_port, KEEPER_PORT) })) };
  if (kind === 'zookeeper') return { kind, nodes: zk.map((p) => ({ host: p.name, address: p.address, port: num(p.vars.zookeeper_client_port, ZK_PORT) })) };
  return { kind: 'none', nodes: [] };
}

// ---------------------------------------------------------------- XML

export function xml(s: string | number): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const el = (name: string, value: string | number, indent: string) => `${indent}<${name}>${xml(value)}</${name}>`;

const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}(\/[0-9]{1,2})?$/;
const IPV6 = /^[0-9a-fA-F:]+(\/[0-9]{1,3})?$/;
/** a users.xml networks entry: `<ip>` for an address or network, `<host>` for a name */
export function networkEntry(a: string): string {
  return IPV4.test(a) || (a.includes(':') && IPV6.test(a)) ? `<ip>${xml(a)}</ip>` : `<host>${xml(a)}</host>`;
}

export interface ServerConfigInput {
  features: Features;
  me: Server;
  cluster: string;
  /** every server of the cluster (remote_servers) */
  servers: Server[];
  coordination: Endpoint[];
  listenHosts: string[];
  /** instances beyond a host's first: the package's MySQL/PostgreSQL protocol ports switched off (they would clash) */
  dropWireProtocols: boolean;
  distributedDdlPath: string;
}

/** config.d/orch.xml: listen, ports, paths, logs, memory, macros, remote_servers and the coordination service. */
export function renderServerConfig(c: ServerConfigInput): string {
  const f = c.features;
  const m = c.me;
  const L: string[] = [
    '<?xml version="1.0"?>',
    `<!-- Managed by orch (role clickhouse${m.id ? `, instance ${m.id}` : ''}) - do not edit; the package's config.xml stays as shipped -->`,
    `<${f.root}>`,
    ...c.listenHosts.map((h) => el('listen_host', h, '    ')),
    el('http_port', m.httpPort, '    '),
    el('tcp_port', m.tcpPort, '    '),
    el('interserver_http_port', m.interserverPort, '    '),
    // replicas fetch parts from each other at this address
    el('interserver_http_host', m.address, '    '),
  ];
  if (c.dropWireProtocols) {
    if (f.mysqlPort) L.push('    <mysql_port remove="1"/>');
    if (f.postgresqlPort) L.push('    <postgresql_port remove="1"/>');
  }
  L.push(
    el('path', `${m.dataDir}/`, '    '),
    el('tmp_path', `${m.dataDir}/tmp/`, '    '),
    el('user_files_path', `${m.dataDir}/user_files/`, '    '),
    el('format_schema_path', `${m.dataDir}/format_schemas/`, '    '),
  );
  if (f.accessControl) L.push('    <user_directories>', '        <local_directory>', el('path', `${m.dataDir}/access/`, '            '), '        </local_directory>', '    </user_directories>');
  L.push('    <logger>', el('log', `${m.logDir}/clickhouse-server.log`, '        '), el('errorlog', `${m.logDir}/clickhouse-server.err.log`, '        '), '    </logger>');
  if (f.maxServerMemoryUsage && m.maxServerMemoryMb > 0) L.push(el('max_server_memory_usage', m.maxServerMemoryMb * 1024 * 1024, '    '));
  L.push('    <macros>', el('cluster', c.cluster, '        '), el('shard', m.shard, '        '), el('replica', m.replica, '        '), '    </macros>');
  L.push('    <remote_servers>', `        <${c.cluster}>`);
  for (const s of shards(c.servers)) {
    L.push('            <shard>', '                <internal_replication>true</internal_replication>');
    for (const r of s.replicas) L.push('                <replica>', el('host', r.address, '                    '), el('port', r.tcpPort, '                    '), '                </replica>');
    L.push('            </shard>');
  }
  L.push(`        </${c.cluster}>`, '    </remote_servers>');
  if (c.coordination.length) {
    L.push('    <zookeeper>');
    for (const n of c.coordination) L.push('        <node>', el('host', n.address, '            '), el('port', n.port, '            '), '        </node>');
    L.push('    </zookeeper>');
    L.push('    <distributed_ddl>', el('path', c.distributedDdlPath, '        '), '    </distributed_ddl>');
  }
  L.push(`</${f.root}>`, '');
  return L.join('\n');
}

export interface UserSpec {
  name: string;
  profile?: string;
  quota?: string;
  networks?: string[];
  access_management?: boolean;
}

/** sha256 of a password, hex: what users.d holds (never the password). */
export function sha256Hex(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

export interface UsersInput {
  features: Features;
  /** the package's `default` user (no password) is kept for the hosts themselves: these networks only */
  defaultNetworks: string[];
  users: Array<UserSpec & { passwordSha256: string }>;
}

/** users.d/orch.xml: the `default` user confined to loopback and the cluster's hosts, the users with sha256 passwords. */
export function renderUsers(u: UsersInput): string {
  const f = u.features;
  const L = ['<?xml version="1.0"?>', '<!-- Managed by orch (role clickhouse) - do not edit: passwords are stored as sha256 only -->', `<${f.root}>`, '    <users>', '        <default>', '            <networks replace="replace">'];
  for (const n of u.defaultNetworks) L.push(`                ${networkEntry(n)}`);
  L.push('            </networks>', '        </default>');
  for (const user of u.users) {
    L.push(`        <${user.name}>`, el('password_sha256_hex', user.passwordSha256, '            '), '            <networks>');
    for (const n of user.networks ?? ['::/0']) L.push(`                ${networkEntry(n)}`);
    L.push('            </networks>', el('profile', user.profile ?? 'default', '            '), el('quota', user.quota ?? 'default', '            '));
    if (f.accessControl && user.access_management) L.push(el('access_management', 1, '            '));
    L.push(`        </${user.name}>`);
  }
  L.push('    </users>', `</${f.root}>`, '');
  return L.join('\n');
}

// ---------------------------------------------------------------- packages

export const REPO_URL = 'https://packages.clickhouse.com';
/** the key packages.clickhouse.com signs with (ClickHouse's install docs: 3a9ea1193a97b548be1457d48919f6bd2b48d754) */
export const REPO_KEY_FINGERPRINT = '3A9EA1193A97B548BE1457D48919F6BD2B48D754';
export const APT_KEYRING = '/usr/share/keyrings/clickhouse-keyring.gpg';
export const APT_SOURCE = '/etc/apt/sources.list.d/clickhouse.list';
export const YUM_REPO = '/etc/yum.repos.d/clickhouse.repo';

/** The apt source of ClickHouse's repository, signed by its keyring (ClickHouse's install docs). */
export function aptSource(base: string, channel: string): string {
  return `# Managed by orch: ClickHouse's package repository\ndeb [signed-by=${APT_KEYRING}] ${trim(base)}/deb ${channel} main\n`;
}

/** The yum repository of ClickHouse's packages (the same as ClickHouse's own clickhouse.repo). */
export function yumRepo(base: string, channel: string): string {
  return [
    '# Managed by orch: ClickHouse\'s package repository',
    '[clickhouse-stable]',
    'name=ClickHouse - Stable Repository',
    `baseurl=${trim(base)}/rpm/${channel}/`,
    'enabled=1',
    'gpgcheck=0',
    'repo_gpgcheck=1',
    `gpgkey=${trim(base)}/rpm/${channel}/repodata/repomd.xml.key`,
    '',
  ].join('\n');
}

/** sh: fetches the repository key into the apt keyring and checks its fingerprint before keeping it. */
export function aptKeyScript(base: string): string {
  const url = `${trim(base)}/rpm/lts/repodata/repomd.xml.key`;
  return [
    'tmp=$(mktemp -d)',
    `curl -fsSL ${q(url)} -o "$tmp/key"`,
    'gpg --batch --dearmor <"$tmp/key" >"$tmp/keyring.gpg"',
    `if ! gpg --batch --no-default-keyring --keyring "$tmp/keyring.gpg" --with-colons --fingerprint | grep -q ${q(`^fpr:::::::::${REPO_KEY_FINGERPRINT}:`)}; then`,
    `  echo ${q(`orch: the key at ${url} is not ClickHouse's (fingerprint ${REPO_KEY_FINGERPRINT})`)} >&2; rm -rf "$tmp"; exit 1`,
    'fi',
    `install -m 0644 "$tmp/keyring.gpg" ${q(APT_KEYRING)}`,
    'rm -rf "$tmp"',
  ].join('\n');
}

export const APT_PIN = '/etc/apt/preferences.d/clickhouse.pref';
const OFFICIAL = ['clickhouse-common-static', 'clickhouse-server', 'clickhouse-client', 'clickhouse-keeper'];

/** apt: ClickHouse's packages held at the version (apt-get install then takes it, not the repository's newest). */
export function aptPin(version: string): string {
  return `# Managed by orch: ClickHouse's packages at clickhouse_version\nPackage: ${OFFICIAL.join(' ')}\nPin: version ${version}\nPin-Priority: 1001\n`;
}

/** dnf takes NAME-VERSION (and rpm -q checks it); apt the names, held at the version by aptPin. */
export function pinned(names: string[], version: string, facts: Pick<HostFacts, 'osFamily'>): string[] {
  return facts.osFamily === 'redhat' ? names.map((n) => `${n}-${version}`) : names;
}

/** The server's packages: the official ones at the version, or Debian's. */
export function serverPackages(source: 'repository' | 'distribution', version: string, facts: Pick<HostFacts, 'osFamily' | 'osId'>): string[] {
  if (source === 'distribution') {
    if (facts.osFamily !== 'debian') throw new Error(`clickhouse_source: distribution: ${facts.osId} has no clickhouse-server package in its own repositories; use clickhouse_source: repository`);
    return ['clickhouse-server', 'clickhouse-client'];
  }
  return pinned(['clickhouse-common-static', 'clickhouse-server', 'clickhouse-client'], version, facts);
}

// ---------------------------------------------------------------- units

export interface UnitInput {
  binary: string;
  /** the config file: /etc/clickhouse-server/config.xml, or the instance's (with %i) */
  config: string;
  instance: boolean;
  /** units the server starts after (a local zookeeper / clickhouse-keeper) */
  after: string[];
}

/** orch's unit for the server (replacing the package's, which knows one config only) or the instances' template. */
export function renderUnit(u: UnitInput): string {
  const after = ['network-online.target', 'time-sync.target', ...u.after].join(' ');
  return [
    '[Unit]',
    u.instance ? 'Description=ClickHouse Server (instance %i)' : 'Description=ClickHouse Server',
    'Wants=network-online.target',
    `After=${after}`,
    '',
    '[Service]',
    'Type=simple',
    'User=clickhouse',
    'Group=clickhouse',
    `ExecStart=${u.binary} --config-file=${u.config}`,
    // systemd is the watchdog
    'Environment=CLICKHOUSE_WATCHDOG_ENABLE=0',
    'Restart=always',
    'RestartSec=10',
    'LimitCORE=infinity',
    'LimitNOFILE=500000',
    'TimeoutStopSec=120',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- health

/** sh: the server answers `SELECT 1` over HTTP (as `default`, which answers on loopback only) */
export function selectOneCommand(httpPort: number): string {
  return `[ "$(curl -fsS --max-time 5 'http://127.0.0.1:${httpPort}/?query=SELECT%201' 2>&1)" = 1 ]`;
}

/** sh: no replicated table of this server is read-only (lost its coordination session, or has no metadata) */
export function noReadonlyReplicaCommand(httpPort: number): string {
  return `[ "$(curl -fsS --max-time 5 'http://127.0.0.1:${httpPort}/?query=SELECT%20count()%20FROM%20system.replicas%20WHERE%20is_readonly' 2>&1)" = 0 ]`;
}

/** sh: every server of this host healthy (SELECT 1, no read-only replica), with what failed */
export function healthCommand(mine: Server[]): string {
  return mine
    .map((s) => `{ ${selectOneCommand(s.httpPort)} || { echo ${q(`clickhouse on :${s.httpPort} does not answer SELECT 1`)}; exit 1; }; ${noReadonlyReplicaCommand(s.httpPort)} || { echo ${q(`clickhouse on :${s.httpPort} has a read-only replica (system.replicas)`)}; exit 1; }; }`)
    .join('\n');
}
