/**
 * zookeeper: what the role writes and runs, as pure functions (unit-tested in test/unit/role-zookeeper.test.ts
 * against spark-kafka-cluster-aws.md's zookeeper.properties and unit): the ensemble from the inventory group, the
 * server config, myid, the systemd unit, and the four-letter-word checks (srvr) the health check and the rolling
 * restart use.
 */
import type { HostFacts, PeerHost } from '../../src/role/define.js';
import { q } from '../../src/ops/index.js';

export const ZK_GROUP = 'zookeeper';
export const RELEASE_HOME = '/opt/zookeeper/current';
export const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

export type ZkSource = 'release' | 'package';

export interface Server {
  host: string;
  /** myid: the host's `zookeeper_id`, else its `node_id`; a single server without either is 1 (the seed's myid) */
  id: number | undefined;
  address: string;
  peerPort: number;
  electionPort: number;
}

/** The servers of the ensemble: every host of the group, in inventory order, with its id and ports. */
export function servers(peers: PeerHost[], defaults: { peerPort: number; electionPort: number }): Server[] {
  return peers.map((p) => {
    const raw = p.vars.zookeeper_id !== undefined && p.vars.zookeeper_id !== 0 ? p.vars.zookeeper_id : p.vars.node_id;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : undefined;
    return {
      host: p.name,
      id: n === undefined && peers.length === 1 ? 1 : n,
      address: p.address,
      peerPort: Number(p.vars.zookeeper_peer_port ?? defaults.peerPort),
      electionPort: Number(p.vars.zookeeper_election_port ?? defaults.electionPort),
    };
  });
}

/** The ids problems of an ensemble: missing, out of ZooKeeper's range (1-255), or shared by two hosts. */
export function idProblems(ss: Server[]): string[] {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const s of ss) {
    if (s.id === undefined) {
      problems.push(`host ${s.host} has no ZooKeeper id: set node_id (or zookeeper_id) to a number 1-255 unique in group ${ZK_GROUP}`);
      continue;
    }
    if (!Number.isInteger(s.id) || s.id < 1 || s.id > 255) problems.push(`host ${s.host}: ZooKeeper id ${s.id} is out of range (1-255)`);
    const other = seen.get(s.id);
    if (other) problems.push(`hosts ${other} and ${s.host} have the same ZooKeeper id ${s.id} (myid): give each a unique node_id or zookeeper_id`);
    else seen.set(s.id, s.host);
  }
  return problems;
}

export interface ConfigInput {
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  maxClientCnxns: number;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  snapRetainCount: number;
  purgeInterval: number;
  whitelist: string[];
  /** 0: AdminServer off */
  adminPort: number;
  /** the ensemble; one server: standalone, no server.N lines (the seed's single node) */
  servers: Server[];
  extra: Record<string, string | number | boolean>;
}

/** zookeeper.properties / zoo.cfg, in the seed's order, then what the seed leaves out. */
export function renderConfig(c: ConfigInput): string {
  const lines = [
    '# Managed by orch (role zookeeper) - do not edit',
    `dataDir=${c.dataDir}`,
    ...(c.dataLogDir ? [`dataLogDir=${c.dataLogDir}`] : []),
    `clientPort=${c.clientPort}`,
    `maxClientCnxns=${c.maxClientCnxns}`,
    `tickTime=${c.tickTime}`,
    `initLimit=${c.initLimit}`,
    `syncLimit=${c.syncLimit}`,
    `autopurge.snapRetainCount=${c.snapRetainCount}`,
    `autopurge.purgeInterval=${c.purgeInterval}`,
    // the four-letter words the health check (srvr) and operators (the seed's `echo stat | nc`) use
    `4lw.commands.whitelist=${c.whitelist.join(',')}`,
    // the AdminServer listens on 8080 by default, the seed's Spark master UI port on the same host
    ...(c.adminPort ? ['admin.enableServer=true', `admin.serverPort=${c.adminPort}`] : ['admin.enableServer=false']),
  ];
  if (c.servers.length > 1) for (const s of c.servers) lines.push(`server.${s.id}=${s.address}:${s.peerPort}:${s.electionPort}`);
  for (const [k, v] of Object.entries(c.extra).sort(([a], [b]) => a.localeCompare(b))) lines.push(`${k}=${v}`);
  return lines.join('\n') + '\n';
}

/** Where the jars and config are, by source. */
export interface ZkPaths {
  /** the server's classpath (java expands `dir/*`) */
  classpath: string;
  /** the config file the unit passes to QuorumPeerMain */
  config: string;
  /** distribution packages ('package' source), and the netcat the health check uses */
  packages: string[];
}

/** netcat for the four-letter words: Debian/Ubuntu netcat-openbsd, RHEL nmap-ncat (both `nc`). */
export function netcatPackage(facts: Pick<HostFacts, 'osFamily'>): string {
  return facts.osFamily === 'redhat' ? 'nmap-ncat' : 'netcat-openbsd';
}

export function zkPaths(source: ZkSource, facts: Pick<HostFacts, 'osFamily' | 'osId'>, configFile: string): ZkPaths {
  if (source === 'release') {
    // the seed's path; the release's conf/ (logback.xml) on the classpath
    return { classpath: `${RELEASE_HOME}/lib/*:${RELEASE_HOME}/conf`, config: configFile || '/etc/zookeeper/zookeeper.properties', packages: [] };
  }
  if (facts.osFamily !== 'debian') {
    throw new Error(
      `zookeeper_source: package: ${facts.osId} (${facts.osFamily}) has no ZooKeeper package in its own repositories (RHEL, Rocky and Alma do not ship one); use zookeeper_source: release`,
    );
  }
  // Debian's `zookeeper` (the jars come with libzookeeper-java): its init script runs QuorumPeerMain with this
  // classpath (/etc/zookeeper/conf/environment) and /etc/zookeeper/conf/zoo.cfg (an alternatives link to conf_example)
  return { classpath: '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar', config: configFile || '/etc/zookeeper/conf/zoo.cfg', packages: ['zookeeper'] };
}

/** `512m` -> 512, `1g` -> 1024 (MiB). */
export function heapMb(heap: string): number {
  const m = /^([0-9]+)([mMgG])$/.exec(heap);
  if (!m) throw new Error(`zookeeper_heap ${heap}: expected a size like 512m or 1g`);
  return Number(m[1]) * (m[2].toLowerCase() === 'g' ? 1024 : 1);
}

export interface UnitInput {
  java: string;
  user: string;
  group: string;
  heap: string;
  classpath: string;
  config: string;
  logDir: string;
  jvmFlags: string;
}

/** The seed's unit (after network, as its user, restart on failure after 10 s), running the server in the foreground. */
export function renderUnit(u: UnitInput): string {
  const exec = [
    u.java,
    `-Xms${u.heap}`,
    `-Xmx${u.heap}`,
    ...(u.jvmFlags ? [u.jvmFlags] : []),
    `-Dzookeeper.log.dir=${u.logDir}`,
    // logs to the journal: `journalctl -u zookeeper -f`, as the seed reads them
    '-Dzookeeper.root.logger=INFO,CONSOLE',
    '-cp',
    u.classpath,
    MAIN_CLASS,
    u.config,
  ].join(' ');
  return [
    '[Unit]',
    'Description=Apache Zookeeper',
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${u.user}`,
    `Group=${u.group}`,
    `ExecStart=${exec}`,
    // a JVM stopped by SIGTERM exits 143
    'SuccessExitStatus=143',
    'Restart=on-failure',
    'RestartSec=10',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** sh: the server's answer to a four-letter word on the client port (nc: netcat-openbsd or nmap-ncat). */
export function fourLetter(word: string, clientPort: number): string {
  return `printf '%s' ${q(word)} | nc -w 5 127.0.0.1 ${clientPort}`;
}

/** sh: exits 0 when the server answers srvr and serves (Mode: leader, follower or standalone). */
export function srvrCommand(clientPort: number): string {
  return `${fourLetter('srvr', clientPort)} | grep -Eq '^Mode: (leader|follower|standalone)$'`;
}

/** sh: exits 0 when this server leads the ensemble (srvr: Mode: leader); it restarts last. */
export function leaderCommand(clientPort: number): string {
  return `${fourLetter('srvr', clientPort)} | grep -q '^Mode: leader$'`;
}

/** sh: polls srvr until the server serves, or fails after `timeoutS` with its last answer. */
export function waitServingScript(clientPort: number, timeoutS: number): string {
  return [
    `end=$(( $(date +%s) + ${timeoutS} ))`,
    `until ${srvrCommand(clientPort)}; do`,
    '  if [ "$(date +%s)" -ge "$end" ]; then',
    `    echo "orch: ZooKeeper on port ${clientPort} does not serve after ${timeoutS}s; srvr answered:" >&2`,
    `    ${fourLetter('srvr', clientPort)} >&2 || :`,
    '    exit 1',
    '  fi',
    '  sleep 2',
    'done',
  ].join('\n');
}
