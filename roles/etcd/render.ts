/**
 * etcd: what the role writes and runs, as pure functions (unit-tested in test/unit/role-etcd.test.ts): the members
 * of the cluster from the inventory group, the environment file etcd reads (ETCD_* settings, as the Debian and
 * RHEL packages lay it out), the systemd unit, and the shell that keeps a member whose data was lost from
 * bootstrapping a second cluster.
 */
import type { HostFacts, PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/index.js';

export const ETCD_GROUP = 'etcd';
/** written by the rejoin step only, read by the unit after the main environment file: `initial-cluster-state existing` */
export const REJOIN_ENV = '/run/orch-etcd-rejoin.env';

export type EtcdSource = 'release' | 'package';

export interface Member {
  /** etcd's member name: the inventory host name unless `etcd_name` is set */
  name: string;
  host: string;
  peerUrl: string;
  clientUrl: string;
}

/** A URL's host part: an IPv6 address in brackets. */
function urlHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/** The members of the cluster: every host of the group, in inventory order, with its own ports. */
export function members(peers: PeerHost[], defaults: { clientPort: number; peerPort: number }): Member[] {
  return peers.map((p) => {
    const name = typeof p.vars.etcd_name === 'string' && p.vars.etcd_name ? p.vars.etcd_name : p.name;
    const peerPort = Number(p.vars.etcd_peer_port ?? defaults.peerPort);
    const clientPort = Number(p.vars.etcd_client_port ?? defaults.clientPort);
    return { name, host: p.name, peerUrl: `http://${urlHost(p.address)}:${peerPort}`, clientUrl: `http://${urlHost(p.address)}:${clientPort}` };
  });
}

/** `--initial-cluster`: name=peer-url for every member. */
export function initialCluster(ms: Member[]): string {
  return ms.map((m) => `${m.name}=${m.peerUrl}`).join(',');
}

/** Where the binaries and the environment file are, by source and OS family. */
export interface EtcdPaths {
  etcd: string;
  etcdctl: string;
  /** the ETCD_* environment file: /etc/default/etcd (Debian's etcd-server), /etc/etcd/etcd.conf (RHEL, Fedora) */
  env: string;
  /** distribution packages ('package' source) */
  packages: string[];
}

export const RELEASE_HOME = '/opt/etcd/current';

export function etcdPaths(source: EtcdSource, facts: Pick<HostFacts, 'osFamily'>): EtcdPaths {
  const env = facts.osFamily === 'redhat' ? '/etc/etcd/etcd.conf' : '/etc/default/etcd';
  if (source === 'release') return { etcd: `${RELEASE_HOME}/etcd`, etcdctl: `${RELEASE_HOME}/etcdctl`, env, packages: [] };
  // Debian/Ubuntu split server and client; Fedora and EPEL ship one `etcd` package with both
  return { etcd: '/usr/bin/etcd', etcdctl: '/usr/bin/etcdctl', env, packages: facts.osFamily === 'redhat' ? ['etcd'] : ['etcd-server', 'etcd-client'] };
}

/** Go's name of the host's architecture, as etcd's release archives are named. */
export function releaseArch(arch: string): string {
  return { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' }[arch] ?? arch;
}

export interface EnvInput {
  me: Member;
  members: Member[];
  token: string;
  dataDir: string;
  listenAddress: string;
  clientPort: number;
  peerPort: number;
  heartbeatMs: number;
  electionMs: number;
  extra: Record<string, string | number>;
}

/** The ETCD_* environment file (`etcd` reads ETCD_<FLAG> for each --flag). */
export function renderEnv(i: EnvInput): string {
  const listen = urlHost(i.listenAddress);
  const lines: Array<[string, string | number]> = [
    ['ETCD_NAME', i.me.name],
    ['ETCD_DATA_DIR', i.dataDir],
    ['ETCD_LISTEN_PEER_URLS', `http://${listen}:${i.peerPort}`],
    ['ETCD_LISTEN_CLIENT_URLS', `http://${listen}:${i.clientPort}`],
    ['ETCD_INITIAL_ADVERTISE_PEER_URLS', i.me.peerUrl],
    ['ETCD_ADVERTISE_CLIENT_URLS', i.me.clientUrl],
    ['ETCD_INITIAL_CLUSTER', initialCluster(i.members)],
    ['ETCD_INITIAL_CLUSTER_TOKEN', i.token],
    // read only when the data dir is empty: a member with data ignores it; the rejoin step overrides it
    ['ETCD_INITIAL_CLUSTER_STATE', 'new'],
    ['ETCD_HEARTBEAT_INTERVAL', i.heartbeatMs],
    ['ETCD_ELECTION_TIMEOUT', i.electionMs],
    ...Object.entries(i.extra).sort(([a], [b]) => a.localeCompare(b)),
  ];
  return ['# Managed by orch (role etcd) - do not edit', ...lines.map(([k, v]) => `${k}=${v}`), ''].join('\n');
}

export function renderUnit(o: { etcd: string; env: string; name: string }): string {
  return [
    '[Unit]',
    `Description=etcd key-value store, member ${o.name} (managed by orch)`,
    'Documentation=https://etcd.io/docs',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    // READY once the member has joined a cluster with a quorum: a first start returns when a majority is up
    'Type=notify',
    'User=etcd',
    'Group=etcd',
    `EnvironmentFile=${o.env}`,
    `EnvironmentFile=-${REJOIN_ENV}`,
    `ExecStart=${o.etcd}`,
    'Restart=on-failure',
    'RestartSec=5',
    'TimeoutStartSec=300',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const ctl = (etcdctl: string, endpoints: string) => `ETCDCTL_API=3 ${q(etcdctl)} --endpoints=${q(endpoints)}`;

/** The URL this host's own member answers on: 127.0.0.1 when it listens on every address, else its listen address. */
export function localEndpoint(listenAddress: string, clientPort: number): string {
  const any = listenAddress === '0.0.0.0' || listenAddress === '::' || listenAddress === '[::]';
  return `http://${any ? '127.0.0.1' : urlHost(listenAddress)}:${clientPort}`;
}

/** sh: exits 0 when the member at `endpoint` answers `etcdctl endpoint health` (a quorum read went through). */
export function healthCommand(etcdctl: string, endpoint: string): string {
  return `${ctl(etcdctl, endpoint)} --dial-timeout=3s --command-timeout=5s endpoint health`;
}

/** sh: exits 0 when the member at `endpoint` is the cluster's leader (`endpoint status`: MemberID = Leader). */
export function leaderCommand(etcdctl: string, endpoint: string): string {
  return [
    `s=$(${ctl(etcdctl, endpoint)} --dial-timeout=3s --command-timeout=5s endpoint status -w fields)`,
    `m=$(printf '%s\\n' "$s" | sed -n 's/^"MemberID" : //p')`,
    `l=$(printf '%s\\n' "$s" | sed -n 's/^"Leader" : //p')`,
    '[ -n "$m" ] && [ "$m" = "$l" ]',
  ].join('\n');
}

/** sh: the member is healthy and knows a leader (the rolling restart's check). */
export function rolloutHealthCommand(etcdctl: string, endpoint: string): string {
  return [
    healthCommand(etcdctl, endpoint),
    `s=$(${ctl(etcdctl, endpoint)} --dial-timeout=3s --command-timeout=5s endpoint status -w fields)`,
    `l=$(printf '%s\\n' "$s" | sed -n 's/^"Leader" : //p')`,
    '[ -n "$l" ] && [ "$l" != 0 ]',
  ].join('\n');
}

/** sh: polls the local health check until it passes or `timeoutS` ends, then fails with the member's status. */
export function waitHealthyScript(etcdctl: string, endpoint: string, timeoutS: number): string {
  return [
    `end=$(( $(date +%s) + ${timeoutS} ))`,
    `until ${healthCommand(etcdctl, endpoint)} >/dev/null 2>&1; do`,
    '  if [ "$(date +%s)" -ge "$end" ]; then',
    `    echo "orch: etcd on this host is not healthy after ${timeoutS}s (etcdctl endpoint health):" >&2`,
    `    ${healthCommand(etcdctl, endpoint)} >&2 || :`,
    '    exit 1',
    '  fi',
    '  sleep 2',
    'done',
  ].join('\n');
}

export interface RejoinInput {
  me: Member;
  members: Member[];
  etcdctl: string;
  dataDir: string;
}

/**
 * sh, run before the service is started when this member's data dir has no `member/` (a first deploy, a new host,
 * or a member whose data was lost). It asks the other members of the group:
 *   - none answers `endpoint health`: the cluster does not exist yet; the member bootstraps it with the others
 *     (initial-cluster-state new, as the environment file says);
 *   - one answers: the cluster exists and this member must not bootstrap a second one. A member listed as started
 *     under this host's peer URL lost its data: it is removed (`member remove`) and added again (`member add`); a
 *     member not listed is added; one listed as unstarted (added, or a bootstrap it was late for) is left as is.
 *     Then the member starts with initial-cluster-state existing and fetches the data from the others.
 * When the cluster answers but a step fails, it stops, naming the host and the commands that finish the job.
 */
export function rejoinScript(i: RejoinInput): string {
  const others = i.members.filter((m) => m.host !== i.me.host);
  // @EP@: the member that answered, filled in by fail()
  const ep = '@EP@';
  const fix = q(
    [
      `to re-add it by hand: etcdctl --endpoints=${ep} member list; etcdctl --endpoints=${ep} member remove <the ID listed for ${i.me.peerUrl}>;`,
      `etcdctl --endpoints=${ep} member add ${i.me.name} --peer-urls=${i.me.peerUrl};`,
      `then on ${i.me.host}: printf 'ETCD_INITIAL_CLUSTER_STATE=existing\\n' >${REJOIN_ENV}; systemctl start etcd; and run orch again`,
    ].join(' '),
  );
  return [
    `me=${q(i.me.name)} peer=${q(i.me.peerUrl)} data=${q(i.dataDir)} rejoin=${q(REJOIN_ENV)}`,
    `ctl() { ETCDCTL_API=3 ${q(i.etcdctl)} --dial-timeout=3s --command-timeout=15s "$@"; }`,
    'ep=',
    `for e in ${others.map((m) => q(m.clientUrl)).join(' ')}; do`,
    '  if ctl --endpoints="$e" endpoint health >/dev/null 2>&1; then ep=$e; break; fi',
    'done',
    'if [ -z "$ep" ]; then',
    '  rm -f "$rejoin"',
    `  echo "no other member of the cluster answers: $me bootstraps it (initial-cluster-state new)"`,
    '  exit 0',
    'fi',
    'fail() {',
    `  printf '%s\\n' "orch: etcd member $me (${i.me.host}) has no data in $data but its cluster answers at $ep: $1; $2" | sed "s|@EP@|$ep|g" >&2`,
    '  exit 1',
    '}',
    `list=$(ctl --endpoints="$ep" member list) || fail "etcdctl member list failed" ${fix}`,
    // simple format: ID, status, name, peer URLs, client URLs, is learner
    `line=$(printf '%s\\n' "$list" | awk -F', ' -v p="$peer" '$4 == p { print; exit }')`,
    'id=${line%%,*}',
    `status=$(printf '%s\\n' "$line" | awk -F', ' '{ print $2 }')`,
    // a member running on wiped data: stop it before it is replaced
    'systemctl stop etcd 2>/dev/null || :',
    'if [ -n "$line" ] && [ "$status" = started ]; then',
    `  ctl --endpoints="$ep" member remove "$id" >/dev/null || fail "etcdctl member remove $id failed" ${fix}`,
    '  echo "removed member $id ($me, its data is gone)"',
    '  line=',
    'fi',
    'if [ -z "$line" ]; then',
    `  ctl --endpoints="$ep" member add "$me" --peer-urls="$peer" >/dev/null || fail "etcdctl member add $me failed" ${fix}`,
    '  echo "added member $me ($peer) to the cluster at $ep"',
    'fi',
    `printf '%s\\n' '# Written by orch (role etcd): this member joins the existing cluster' 'ETCD_INITIAL_CLUSTER_STATE=existing' >"$rejoin"`,
    'systemctl daemon-reload',
    'systemctl start etcd',
    'echo "$me joined the existing cluster (initial-cluster-state existing)"',
  ].join('\n');
}
