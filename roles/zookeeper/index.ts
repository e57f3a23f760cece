/** zookeeper: see DOC below (also shown by `orch roles show zookeeper`). */
import { artifactSource, release } from '../../src/artifacts/index.js';
import { ops, serviceLimits } from '../../src/ops/index.js';
import type { Operation } from '../../src/ops/types.js';
import { defineRole, type OfflineContext } from '../../src/role/define.js';
import { v, type VarsOf } from '../../src/role/vars.js';
import {
  RELEASE_HOME,
  ZK_GROUP,
  heapMb,
  idProblems,
  leaderCommand,
  netcatPackage,
  renderConfig,
  renderUnit,
  servers,
  srvrCommand,
  waitServingScript,
  zkPaths,
} from './render.js';

const FOUR_LETTER_WORDS = ['srvr', 'mntr', 'ruok', 'stat', 'conf', 'cons', 'crst', 'dump', 'envi', 'srst', 'wchs', 'wchc', 'wchp', 'dirs', 'isro', 'gtmk', 'stmk', '*'];

const vars = {
  zookeeper_source: v.oneOf(['release', 'package'] as const, {
    default: 'release',
    doc: "release: Apache ZooKeeper's binary release (official URL, pinned checksum); package: Debian/Ubuntu's zookeeper package (no RHEL package exists)",
  }),
  zookeeper_version: v.str({ default: '3.8.4', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'release to install (a version of the artifact catalogue, src/artifacts); the seeds: 3.8 / 3.7' }),
  artifact_mirror: v.str({ default: '', doc: 'base URL replacing archive.apache.org/dist/, keeping the release path; empty: the official URL' }),
  zookeeper_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', doc: 'sha512 of the archive at the mirror when it is not the official one (a test build); empty: the pinned checksum' }),
  zookeeper_user: v.str({ default: 'spark', pattern: '^[a-z_][a-z0-9_-]*$', doc: 'service user (the seed: spark); created as a system user when missing' }),
  zookeeper_group: v.str({ default: '', pattern: '^(|[a-z_][a-z0-9_-]*)$', doc: "service group; empty: the user's own group" }),
  zookeeper_id: v.int({ default: 0, minimum: 0, maximum: 255, doc: "this server's id (myid); 0: the host's node_id (a single server: 1)" }),
  zookeeper_data_dir: v.str({ default: '/var/lib/zookeeper', pattern: '^/[^\\s]*$', doc: 'dataDir (snapshots, myid)' }),
  zookeeper_data_log_dir: v.str({ default: '', pattern: '^(|/[^\\s]*)$', doc: "dataLogDir (transaction log, e.g. vps-trio's /datalog); empty: in dataDir" }),
  zookeeper_log_dir: v.str({ default: '/var/log/zookeeper', pattern: '^/[^\\s]*$', doc: 'zookeeper.log.dir (the server logs to the journal)' }),
  zookeeper_config_file: v.str({
    default: '',
    pattern: '^(|/[^\\s]*)$',
    doc: "config file; empty: the seed's /etc/zookeeper/zookeeper.properties (release), Debian's /etc/zookeeper/conf/zoo.cfg (package)",
  }),
  zookeeper_client_port: v.port({ default: 2181, doc: 'clientPort' }),
  zookeeper_peer_port: v.port({ default: 2888, doc: 'quorum port (followers to the leader), server.N=host:THIS:3888' }),
  zookeeper_election_port: v.port({ default: 3888, doc: 'leader election port, server.N=host:2888:THIS' }),
  zookeeper_max_client_cnxns: v.int({ default: 0, minimum: 0, doc: 'maxClientCnxns (the seed: 0, no limit)' }),
  zookeeper_tick_time: v.int({ default: 2000, minimum: 1, doc: 'tickTime, ms' }),
  zookeeper_init_limit: v.int({ default: 10, minimum: 1, doc: 'initLimit, ticks for a follower to connect to the leader' }),
  zookeeper_sync_limit: v.int({ default: 5, minimum: 1, doc: 'syncLimit, ticks for a follower to sync with the leader' }),
  zookeeper_autopurge_snap_retain_count: v.int({ default: 3, minimum: 3, doc: 'autopurge.snapRetainCount' }),
  zookeeper_autopurge_purge_interval: v.int({ default: 1, minimum: 0, doc: 'autopurge.purgeInterval, hours (0: off)' }),
  zookeeper_4lw_whitelist: v.list<string>(
    { type: 'string', enum: FOUR_LETTER_WORDS },
    { default: ['srvr', 'mntr', 'ruok', 'stat'], doc: '4lw.commands.whitelist; must keep srvr, which the health check uses' },
  ),
  zookeeper_heap: v.str({ default: '512m', pattern: '^[0-9]+[mMgG]$', doc: "JVM heap (-Xms/-Xmx); Kafka's zookeeper-server-start.sh, which the seed runs, uses 512M" }),
  zookeeper_jvm_flags: v.str({ default: '', pattern: '^[^\\n]*$', doc: 'more JVM flags for the server' }),
  zookeeper_admin_port: v.int({ default: 0, minimum: 0, maximum: 65535, doc: 'AdminServer HTTP port; 0: off (its default 8080 is the Spark master UI port of the seed)' }),
  zookeeper_extra: v.map<string | number | boolean>({ type: ['string', 'integer', 'boolean'] }, { default: {}, doc: 'more properties for the config file' }),
};

type ZkVars = VarsOf<typeof vars>;

function ensemble(ctx: Pick<OfflineContext<ZkVars>, 'vars' | 'group'>) {
  return servers(ctx.group(ZK_GROUP), { peerPort: ctx.vars.zookeeper_peer_port, electionPort: ctx.vars.zookeeper_election_port });
}

const DOC = `
zookeeper: Apache ZooKeeper, a single node or an ensemble. The main source is spark-kafka-cluster-aws.md
("Role: zookeeper" and "Service Configuration: Apache Zookeeper"), whose values are the defaults:
zookeeper.properties (dataDir /var/lib/zookeeper, clientPort 2181, maxClientCnxns 0, tickTime 2000, initLimit 10,
syncLimit 5, autopurge 3 / 1 h), /etc/zookeeper/zookeeper.properties, myid 1, a systemd unit running as \`spark\`,
after network, restarted on failure after 10 s. vps-trio's ClickHouse uses it too (ZooKeeper 3.7, 512 MB).

- Source: \`zookeeper_source: release\` (default, production): Apache's binary release (official URL, pinned
  checksum, src/artifacts), unpacked to /opt/zookeeper/releases/<version> with /opt/zookeeper/current; \`package\`:
  Debian/Ubuntu's \`zookeeper\` (3.8.0 on bookworm), whose jars and /etc/zookeeper/conf/zoo.cfg the unit uses. Not
  \`zookeeperd\`: it only adds a SysV script, which orch's own unit replaces, and starts a server with the example
  config on install. RHEL and its rebuilds ship no ZooKeeper package: use the release there.
- The seed runs Kafka's bundled copy (/opt/kafka/bin/zookeeper-server-start.sh); this role runs ZooKeeper's own
  release (the server class is the same, org.apache.zookeeper.server.quorum.QuorumPeerMain), so that ZooKeeper
  does not depend on a Kafka install. Kafka's script defaults to a 512 MB heap: \`zookeeper_heap\` 512m.
- Ensemble: every host of the inventory group \`zookeeper\`; with more than one, \`server.N=host:2888:3888\` lines,
  N (myid) from each host's \`zookeeper_id\`, else its \`node_id\`, checked unique offline. One host: standalone, as
  the seed.
- Health: the client port listens and \`srvr\` answers Mode: leader, follower or standalone (the 4lw whitelist
  keeps srvr, mntr, ruok and stat, the seed's \`echo stat | nc localhost 2181\`); config changes restart one server
  at a time behind that check, the leader last.
- The AdminServer (HTTP, 8080 by default, the seed's Spark master UI port on the same host) is off unless
  \`zookeeper_admin_port\` is set.
`;

export default defineRole({
  name: 'zookeeper',
  doc: DOC,
  description: 'Apache ZooKeeper (release or Debian package), single node or the ensemble of group zookeeper: config, myid, unit, srvr health, rolling restarts',
  dependsOn: ['java'],
  vars,
  validate(ctx) {
    const ss = ensemble(ctx);
    const problems: string[] = [];
    if (!ss.some((s) => s.host === ctx.host.name)) problems.push(`host ${ctx.host.name} runs zookeeper but is not in the inventory group ${ZK_GROUP}, whose hosts make the ensemble`);
    problems.push(...idProblems(ss));
    if (!ctx.vars.zookeeper_4lw_whitelist.includes('srvr') && !ctx.vars.zookeeper_4lw_whitelist.includes('*')) {
      problems.push('zookeeper_4lw_whitelist must keep srvr: the health check and rolling restarts ask it');
    }
    return problems;
  },
  declares: ({ vars: x, group }) => {
    const inEnsemble = group(ZK_GROUP).length > 1;
    return {
      ports: [
        { port: x.zookeeper_client_port, variable: 'zookeeper_client_port', description: 'ZooKeeper clients' },
        ...(inEnsemble
          ? [
              { port: x.zookeeper_peer_port, variable: 'zookeeper_peer_port', description: 'ZooKeeper quorum (followers to leader)' },
              { port: x.zookeeper_election_port, variable: 'zookeeper_election_port', description: 'ZooKeeper leader election' },
            ]
          : []),
        ...(x.zookeeper_admin_port ? [{ port: x.zookeeper_admin_port, variable: 'zookeeper_admin_port', description: 'ZooKeeper AdminServer (HTTP)' }] : []),
      ],
      memoryMb: heapMb(x.zookeeper_heap),
      dataDirs: [x.zookeeper_data_dir, ...(x.zookeeper_data_log_dir ? [x.zookeeper_data_log_dir] : [])],
      quorum: [{ group: ZK_GROUP, kind: 'zab', protects: 'ZooKeeper writes, and what is kept there (Kafka metadata in ZooKeeper mode, ClickHouse replication)' }],
    };
  },
  rollout: ({ vars: x }) => ({
    services: ['zookeeper'],
    health: { command: srvrCommand(x.zookeeper_client_port), description: 'ZooKeeper serves again (srvr: Mode leader, follower or standalone)', timeoutSec: 120, intervalSec: 2 },
    leader: leaderCommand(x.zookeeper_client_port),
  }),
  operations(ctx) {
    const { vars: x, host } = ctx;
    const paths = zkPaths(x.zookeeper_source, host.facts, x.zookeeper_config_file);
    const ss = ensemble(ctx);
    const me = ss.find((s) => s.host === host.name)!;
    const user = x.zookeeper_user;
    const group = x.zookeeper_group || user;
    const javaHome = String(ctx.exported('java').java_home ?? '');
    const list: Operation<any>[] = [];
    if (x.zookeeper_group) list.push(ops.group({ name: group, system: true }));
    list.push(
      // only what the service needs: another role (spark) may own the rest of this account
      ops.user({ name: user, ...(x.zookeeper_group ? { group } : {}), system: true, createHome: false }),
      ops.packages({ names: [...paths.packages, netcatPackage(host.facts)], osFamily: host.facts.osFamily }),
    );
    if (x.zookeeper_source === 'release') {
      const rel = release('zookeeper', x.zookeeper_version);
      const src = artifactSource(rel, { mirror: x.artifact_mirror, sha512: x.zookeeper_sha512 || undefined });
      list.push(ops.artifact({ url: src.url, sha512: src.sha512, sha256: src.sha256, dest: `/opt/zookeeper/releases/${x.zookeeper_version}`, link: RELEASE_HOME, stripComponents: 1 }));
    }
    const configDir = paths.config.slice(0, paths.config.lastIndexOf('/'));
    list.push(
      ...(configDir === '/etc/zookeeper/conf' ? [] : [ops.dir({ path: configDir, owner: 'root', group: 'root', mode: 0o755 })]),
      ops.dir({ path: x.zookeeper_data_dir, owner: user, group, mode: 0o750 }),
      ...(x.zookeeper_data_log_dir ? [ops.dir({ path: x.zookeeper_data_log_dir, owner: user, group, mode: 0o750 })] : []),
      ops.dir({ path: x.zookeeper_log_dir, owner: user, group, mode: 0o750 }),
      ops.file({
        path: paths.config,
        content: renderConfig({
          dataDir: x.zookeeper_data_dir,
          dataLogDir: x.zookeeper_data_log_dir,
          clientPort: x.zookeeper_client_port,
          maxClientCnxns: x.zookeeper_max_client_cnxns,
          tickTime: x.zookeeper_tick_time,
          initLimit: x.zookeeper_init_limit,
          syncLimit: x.zookeeper_sync_limit,
          snapRetainCount: x.zookeeper_autopurge_snap_retain_count,
          purgeInterval: x.zookeeper_autopurge_purge_interval,
          whitelist: x.zookeeper_4lw_whitelist,
          adminPort: x.zookeeper_admin_port,
          servers: ss,
          extra: x.zookeeper_extra,
        }),
        owner: 'root',
        group: 'root',
        mode: 0o644,
        notify: ['zookeeper'],
      }),
      ops.file({ path: `${x.zookeeper_data_dir}/myid`, content: `${me.id}\n`, owner: user, group, mode: 0o644, notify: ['zookeeper'] }),
      ops.unit({
        name: 'zookeeper.service',
        content: renderUnit({
          java: javaHome ? `${javaHome}/bin/java` : '/usr/bin/java',
          user,
          group,
          heap: x.zookeeper_heap,
          classpath: paths.classpath,
          config: paths.config,
          logDir: x.zookeeper_log_dir,
          jvmFlags: x.zookeeper_jvm_flags,
        }),
        notify: ['zookeeper'],
        // the inventory's resource_limits.zookeeper (vps-trio: 512 MB / 0.1 CPU) as MemoryMax= / CPUQuota=
        resources: serviceLimits(ctx.host.vars, 'zookeeper'),
      }),
      ops.service({ name: 'zookeeper', enabled: true, state: 'started' }),
      ops.waitForPort({ port: x.zookeeper_client_port, timeoutS: 120 }),
      ops.command({
        name: 'zookeeper: this server serves (srvr: Mode leader, follower or standalone)',
        run: waitServingScript(x.zookeeper_client_port, 180),
        unless: srvrCommand(x.zookeeper_client_port),
      }),
    );
    return list;
  },
});
