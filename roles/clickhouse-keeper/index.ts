/** clickhouse-keeper: see DOC below (also shown by `orch roles show clickhouse-keeper`). */
import { ops, serviceLimits, type Operation } from '../../src/ops/index.js';
import { defineRole, type OfflineContext } from '../../src/role/define.js';
import { v, type VarsOf } from '../../src/role/vars.js';
import { APT_KEYRING, APT_PIN, APT_SOURCE, CH_GROUP, REPO_URL, YUM_REPO, aptKeyScript, aptPin, aptSource, features, parseVersion, pinned, yumRepo } from '../clickhouse/render.js';
import { netcatPackage } from '../zookeeper/render.js';
import { KEEPER_GROUP, healthCommand, idProblems, leaderCommand, members, renderKeeperConfig, renderKeeperUnit } from './render.js';

const WORDS = ['conf', 'cons', 'crst', 'envi', 'ruok', 'srst', 'srvr', 'stat', 'wchs', 'wchc', 'wchp', 'dirs', 'mntr', 'isro', 'rcvr', 'apiv', 'csnp', 'lgif', 'rqld', 'rclc', 'clrs', 'ftfl', 'ydld', 'pfev'];

const vars = {
  clickhouse_keeper_mode: v.oneOf(['standalone', 'embedded'] as const, {
    default: 'standalone',
    doc: "standalone: the clickhouse-keeper server (its own unit, /etc/clickhouse-keeper/keeper_config.d/orch.xml; datalyptica-minimal-5vm.md's separate Keeper, 1 GB / 0.5 CPU); embedded: <keeper_server> in the ClickHouse server's config.d (datalyptica-enterprise-50vm.md's ch01-ch03)",
  }),
  clickhouse_keeper_source: v.oneOf(['repository', 'preinstalled'] as const, {
    default: 'repository',
    doc: "repository: ClickHouse's packages (packages.clickhouse.com, as the clickhouse role); preinstalled: /usr/bin/clickhouse-keeper and /etc/clickhouse-keeper/keeper_config.xml are on the host already (an image, an offline install; the tests' fixture), only netcat is installed",
  }),
  clickhouse_version: v.str({ default: '24.12.2.59', pattern: '^[0-9]+(\\.[0-9]+){3}$', doc: "ClickHouse's version, all four parts (Keeper comes with it: the seeds' 24.12.2.59)" }),
  clickhouse_repository_url: v.str({ default: REPO_URL, pattern: '^https?://[^\\s]+$', doc: "base URL of ClickHouse's package repository (or a mirror with its layout)" }),
  clickhouse_repository_channel: v.oneOf(['stable', 'lts'] as const, { default: 'stable', doc: 'channel of the repository' }),
  clickhouse_keeper_id: v.int({ default: 0, minimum: 0, doc: "this member's server_id; 0: the host's node_id (a lone keeper: 1)" }),
  clickhouse_keeper_port: v.port({ default: 9181, doc: 'client port (tcp_port): ClickHouse servers connect here' }),
  clickhouse_keeper_raft_port: v.port({ default: 9234, doc: 'Raft port of raft_configuration (members to each other)' }),
  clickhouse_keeper_data_dir: v.str({ default: '/data/clickhouse-keeper', pattern: '^/[^\\s]*[^/\\s]$', doc: 'coordination log and snapshots (DATA/coordination/log, DATA/coordination/snapshots)' }),
  clickhouse_keeper_log_dir: v.str({ default: '/var/log/clickhouse-keeper', pattern: '^/[^\\s]*[^/\\s]$', doc: 'standalone: the keeper log files' }),
  clickhouse_keeper_listen_hosts: v.list<string>({ type: 'string', pattern: '^[0-9a-fA-F.:]+$' }, { default: ['0.0.0.0'], doc: 'standalone: listen_host (embedded: the server listens where clickhouse_listen_hosts says)' }),
  clickhouse_keeper_4lw: v.list<string>({ type: 'string', enum: WORDS }, { default: ['conf', 'cons', 'crst', 'envi', 'ruok', 'srst', 'srvr', 'stat', 'wchs', 'dirs', 'mntr', 'isro'], doc: 'four_letter_word_white_list; must keep ruok and mntr, which the health check asks' }),
  clickhouse_keeper_operation_timeout_ms: v.int({ default: 10000, minimum: 100, doc: 'coordination_settings operation_timeout_ms' }),
  clickhouse_keeper_session_timeout_ms: v.int({ default: 30000, minimum: 1000, doc: 'coordination_settings session_timeout_ms' }),
  clickhouse_keeper_raft_logs_level: v.oneOf(['trace', 'debug', 'information', 'warning', 'error'] as const, { default: 'warning', doc: 'coordination_settings raft_logs_level' }),
  clickhouse_keeper_memory_mb: v.int({ default: 1024, minimum: 0, doc: "what a standalone keeper counts on, MiB (datalyptica-minimal-5vm.md: 1 GB), for orch plan's capacity table" }),
  clickhouse_keeper_cpus: v.schema<number>({ type: 'number', minimum: 0 }, { default: 0.5, doc: 'CPUs a standalone keeper counts on (datalyptica-minimal-5vm.md: 0.5)' }),
  clickhouse_keeper_health_timeout: v.int({ default: 120, minimum: 10, doc: 'seconds a member has to answer imok and see one leader after a (re)start' }),
};

type KVars = VarsOf<typeof vars>;

function group(ctx: Pick<OfflineContext<KVars>, 'vars' | 'group'>) {
  return members(ctx.group(KEEPER_GROUP), { port: ctx.vars.clickhouse_keeper_port, raftPort: ctx.vars.clickhouse_keeper_raft_port });
}

export const KEEPER_CONFIG = '/etc/clickhouse-keeper/keeper_config.xml';
export const KEEPER_DROPIN = '/etc/clickhouse-keeper/keeper_config.d/orch.xml';
export const EMBEDDED_DROPIN = '/etc/clickhouse-server/config.d/orch-keeper.xml';

const DOC = `
clickhouse-keeper: ClickHouse Keeper, the Raft coordination service of ClickHouse replication and ON CLUSTER DDL, on
every host of the inventory group \`clickhouse_keeper\`: client port 9181 (tcp_port), Raft 9234, server_id from each
host's clickhouse_keeper_id or node_id (checked unique offline), coordination log and snapshots under
/data/clickhouse-keeper, the four-letter words the health check asks (ruok, mntr ...).
- datalyptica-enterprise-50vm.md: keeper_server embedded in the servers ch01-ch03 (clickhouse_keeper_mode: embedded:
  /etc/clickhouse-server/config.d/orch-keeper.xml, restarts with clickhouse-server); the seed's raft_configuration
  (server 1-3, port 9234) and tcp_port 9181.
- datalyptica-minimal-5vm.md: two separate Keepers on VM4/VM5 (standalone, the default: the clickhouse-keeper server,
  its package's keeper_config.xml kept and /etc/clickhouse-keeper/keeper_config.d/orch.xml beside it, orch's unit
  clickhouse-keeper.service). Two Raft members survive no failure: declared as a raft quorum, orch plan says so.
- Source: ClickHouse's repository (packages.clickhouse.com, as the clickhouse role; clickhouse-keeper pinned to
  clickhouse_version; on a host that also runs the server, the clickhouse-server package, which carries Keeper and
  conflicts with the clickhouse-keeper package). No distribution ships Keeper (Debian's ClickHouse is 18.16, before
  Keeper existed), so the integration tests cannot run a real one: the role's rendering and checks are unit-tested
  against the documented format, and the ruok/mntr checks against ZooKeeper's answers (same client protocol and 4lw).
- Health: ruok answers imok, mntr shows the member serving, and exactly one member of the group reports
  zk_server_state leader; restarts roll one member at a time behind that check, the leader last.
`;

export default defineRole({
  name: 'clickhouse-keeper',
  doc: DOC,
  description: 'ClickHouse Keeper (Raft, 9181/9234) of group clickhouse_keeper, standalone or embedded in the server: server_id from node_id, ruok/mntr health, one leader, rolling restarts',
  vars,
  validate(ctx) {
    const ms = group(ctx);
    const out: string[] = [];
    if (!ms.some((m) => m.host === ctx.host.name)) out.push(`host ${ctx.host.name} runs clickhouse-keeper but is not in the inventory group ${KEEPER_GROUP}, whose hosts make the Raft group`);
    out.push(...idProblems(ms));
    for (const w of ['ruok', 'mntr']) if (!ctx.vars.clickhouse_keeper_4lw.includes(w)) out.push(`clickhouse_keeper_4lw must keep ${w}: the health check asks it`);
    const [a, b] = parseVersion(ctx.vars.clickhouse_version);
    if (a < 21 || (a === 21 && b < 8)) out.push(`clickhouse_version ${ctx.vars.clickhouse_version}: ClickHouse Keeper exists from 21.8`);
    if (ctx.vars.clickhouse_keeper_mode === 'embedded' && !ctx.host.groups.includes(CH_GROUP)) out.push(`clickhouse_keeper_mode: embedded: host ${ctx.host.name} runs no ClickHouse server (group ${CH_GROUP}) to embed Keeper in`);
    if (ctx.vars.clickhouse_keeper_mode === 'embedded' && Array.isArray(ctx.host.vars.clickhouse_instances) && ctx.host.vars.clickhouse_instances.length) out.push('clickhouse_keeper_mode: embedded does not go with clickhouse_instances: run a standalone keeper');
    return out;
  },
  declares: ({ vars: x }) => ({
    ports: [
      { port: x.clickhouse_keeper_port, variable: 'clickhouse_keeper_port', description: 'ClickHouse Keeper clients' },
      { port: x.clickhouse_keeper_raft_port, variable: 'clickhouse_keeper_raft_port', description: 'ClickHouse Keeper Raft' },
    ],
    ...(x.clickhouse_keeper_mode === 'standalone' ? { memoryMb: x.clickhouse_keeper_memory_mb, cpus: x.clickhouse_keeper_cpus } : {}),
    dataDirs: [x.clickhouse_keeper_data_dir],
    quorum: [{ group: KEEPER_GROUP, kind: 'raft', protects: 'ClickHouse replication' }],
  }),
  rollout: (ctx) => {
    const ms = group(ctx);
    const me = ms.find((m) => m.host === ctx.host.name)!;
    return {
      services: [ctx.vars.clickhouse_keeper_mode === 'standalone' ? 'clickhouse-keeper' : 'clickhouse-server'],
      health: { command: healthCommand(me, ms), description: 'Keeper answers imok, serves, and the group has one leader', timeoutSec: ctx.vars.clickhouse_keeper_health_timeout, intervalSec: 2 },
      leader: leaderCommand(me.port),
      serial: 1,
    };
  },
  operations(ctx) {
    const { vars: x, host } = ctx;
    const facts = host.facts;
    const ms = group(ctx);
    const me = ms.find((m) => m.host === host.name)!;
    const standalone = x.clickhouse_keeper_mode === 'standalone';
    const redhat = facts.osFamily === 'redhat';
    const withServer = host.groups.includes(CH_GROUP);
    const list: Operation<any>[] = [];
    const fromRepository = x.clickhouse_keeper_source === 'repository';
    if (fromRepository && redhat) list.push(ops.file({ path: YUM_REPO, content: yumRepo(x.clickhouse_repository_url, x.clickhouse_repository_channel), owner: 'root', group: 'root', mode: 0o644 }));
    else if (fromRepository) {
      list.push(
        ops.packages({ names: ['gnupg', 'curl', 'ca-certificates'], osFamily: facts.osFamily }),
        ops.command({ name: `ClickHouse's repository key in ${APT_KEYRING}`, run: aptKeyScript(x.clickhouse_repository_url), creates: APT_KEYRING }),
        ops.file({ path: APT_SOURCE, content: aptSource(x.clickhouse_repository_url, x.clickhouse_repository_channel), owner: 'root', group: 'root', mode: 0o644 }),
        ops.file({ path: APT_PIN, content: aptPin(x.clickhouse_version), owner: 'root', group: 'root', mode: 0o644 }),
      );
    }
    // the server package carries Keeper (and conflicts with the clickhouse-keeper package)
    const pkgs = fromRepository ? pinned(withServer ? ['clickhouse-common-static', 'clickhouse-server'] : ['clickhouse-keeper'], x.clickhouse_version, facts) : [];
    list.push(
      ops.packages({ names: [...pkgs, netcatPackage(facts)], osFamily: facts.osFamily, ...(fromRepository ? { updateCache: true, noStart: ['clickhouse-server', 'clickhouse-keeper'] } : {}) }),
      ops.user({ name: 'clickhouse', system: true, createHome: false }),
      ops.dir({ path: x.clickhouse_keeper_data_dir, owner: 'clickhouse', group: 'clickhouse', mode: 0o750 }),
    );
    const config = renderKeeperConfig({
      root: standalone ? 'clickhouse' : features(x.clickhouse_version, 'repository').root,
      standalone,
      me,
      members: ms,
      dataDir: x.clickhouse_keeper_data_dir,
      logDir: x.clickhouse_keeper_log_dir,
      listenHosts: x.clickhouse_keeper_listen_hosts,
      fourLetterWords: x.clickhouse_keeper_4lw,
      operationTimeoutMs: x.clickhouse_keeper_operation_timeout_ms,
      sessionTimeoutMs: x.clickhouse_keeper_session_timeout_ms,
      raftLogsLevel: x.clickhouse_keeper_raft_logs_level,
    });
    if (standalone) {
      list.push(
        ops.dir({ path: x.clickhouse_keeper_log_dir, owner: 'clickhouse', group: 'clickhouse', mode: 0o750 }),
        ops.dir({ path: '/etc/clickhouse-keeper/keeper_config.d', owner: 'root', group: 'clickhouse', mode: 0o750 }),
        ops.file({ path: KEEPER_DROPIN, content: config, owner: 'root', group: 'clickhouse', mode: 0o640, notify: ['clickhouse-keeper'] }),
        ops.unit({ name: 'clickhouse-keeper.service', content: renderKeeperUnit('/usr/bin/clickhouse-keeper', KEEPER_CONFIG), notify: ['clickhouse-keeper'], resources: serviceLimits(host.vars, 'clickhouse-keeper') }),
        ops.service({ name: 'clickhouse-keeper', enabled: true, state: 'started' }),
        ops.waitForPort({ port: me.port, timeoutS: 120 }),
      );
    } else {
      // the clickhouse role (same phase or later) writes the rest of the server's config and starts it
      list.push(
        ops.dir({ path: '/etc/clickhouse-server/config.d', owner: 'root', group: 'clickhouse', mode: 0o750 }),
        ops.file({ path: EMBEDDED_DROPIN, content: config, owner: 'root', group: 'clickhouse', mode: 0o640, notify: ['clickhouse-server'] }),
      );
    }
    // embedded: the server starts at the end of the phase (the clickhouse role): its rollout checks Keeper then
    if (standalone) {
      list.push(
        ops.healthCheck({
          name: `ClickHouse Keeper ${me.address}:${me.port} answers imok, the group of ${ms.length} has one leader`,
          command: healthCommand(me, ms),
          timeoutS: x.clickhouse_keeper_health_timeout,
          intervalS: 2,
        }),
      );
    }
    return list;
  },
});
