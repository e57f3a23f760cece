/** clickhouse: see DOC below (also shown by `orch roles show clickhouse`). */
import { randomBytes } from 'node:crypto';
import { ops, serviceLimits, type Operation } from '../../src/ops/index.js';
import { defineRole, type OfflineContext } from '../../src/role/define.js';
import { v, type VarsOf } from '../../src/role/vars.js';
import {
  APT_KEYRING,
  APT_PIN,
  APT_SOURCE,
  CH_GROUP,
  DISTRIBUTION_VERSION,
  KEEPER_GROUP,
  REPO_URL,
  YUM_REPO,
  ZK_GROUP,
  aptKeyScript,
  aptPin,
  aptSource,
  coordinationNodes,
  features,
  healthCommand,
  layoutProblems,
  renderServerConfig,
  renderUnit,
  renderUsers,
  serverPackages,
  servers,
  sha256Hex,
  yumRepo,
  type InstanceVar,
  type UserSpec,
} from './render.js';

const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

const vars = {
  clickhouse_source: v.oneOf(['repository', 'distribution'] as const, {
    default: 'repository',
    doc: "repository: ClickHouse's own packages (packages.clickhouse.com apt/yum, pinned to clickhouse_version); distribution: Debian/Ubuntu's clickhouse-server (18.16, an old release: rendered for its version)",
  }),
  clickhouse_version: v.str({ default: '24.12.2.59', pattern: '^[0-9]+(\\.[0-9]+){3}$', doc: "the version installed from the repository, all four parts as the repository names it (the datalyptica seeds' 24.12.2.59; vps-trio's image is 24.8: a 24.8.x.y of the lts channel)" }),
  clickhouse_distribution_version: v.str({
    default: DISTRIBUTION_VERSION,
    pattern: '^[0-9]+\\.[0-9]+$',
    doc: "MAJOR.MINOR of the distribution's package (Debian 12 / Ubuntu: 18.16), which the files are rendered for; the run checks it against the installed server",
  }),
  clickhouse_repository_url: v.str({ default: REPO_URL, pattern: '^https?://[^\\s]+$', doc: "base URL of ClickHouse's package repository (or a mirror of it with the same layout)" }),
  clickhouse_repository_channel: v.oneOf(['stable', 'lts'] as const, { default: 'stable', doc: 'channel of the repository (24.12 is a stable release; lts has 24.8, 24.3 ...)' }),
  clickhouse_cluster_name: v.str({ default: 'analytics_cluster', pattern: NAME, doc: "the cluster's name in remote_servers and the {cluster} macro (datalyptica-enterprise-50vm.md: analytics_cluster)" }),
  clickhouse_shard: v.int({ default: 1, minimum: 1, doc: "this host's shard (a host variable; enterprise: ch01/ch02 1, ch03 2)" }),
  clickhouse_replica: v.str({ default: '', pattern: '^(|[A-Za-z0-9_.-]+)$', doc: "this host's replica name in its shard (a host variable); empty: the host name" }),
  clickhouse_instances: v.list<InstanceVar>(
    {
      type: 'object',
      required: ['id', 'tcp_port', 'http_port', 'interserver_port'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
        shard: { type: 'integer', minimum: 1 },
        replica: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
        tcp_port: { type: 'integer', minimum: 1, maximum: 65535 },
        http_port: { type: 'integer', minimum: 1, maximum: 65535 },
        interserver_port: { type: 'integer', minimum: 1, maximum: 65535 },
        data_dir: { type: 'string', pattern: '^/[^\\s]*$' },
        log_dir: { type: 'string', pattern: '^/[^\\s]*$' },
        max_server_memory_mb: { type: 'integer', minimum: 0 },
      },
    },
    {
      default: [],
      doc: "several servers on this host (vps-trio: clickhouse-01 on 9000, clickhouse-02 on 19000), each { id, shard (1), replica (HOST-ID), tcp_port, http_port, interserver_port, data_dir (DATA/ID), log_dir, max_server_memory_mb } as unit clickhouse-server@ID; empty: one server, the host's",
    },
  ),
  clickhouse_tcp_port: v.port({ default: 9000, doc: 'native protocol port (clients, Distributed queries)' }),
  clickhouse_http_port: v.port({ default: 8123, doc: 'HTTP interface port' }),
  clickhouse_interserver_port: v.port({ default: 9009, doc: 'interserver HTTP port (replicas fetch parts here)' }),
  clickhouse_listen_hosts: v.list<string>({ type: 'string', pattern: '^[0-9a-fA-F.:]+$' }, { default: ['0.0.0.0'], doc: 'listen_host addresses (the package listens on loopback only)' }),
  clickhouse_data_dir: v.str({ default: '/data/clickhouse', pattern: '^/[^\\s]*[^/\\s]$', doc: "path (tables, metadata; datalyptica-minimal-5vm.md's /data/clickhouse); instances: DATA/ID unless given" }),
  clickhouse_log_dir: v.str({ default: '/var/log/clickhouse-server', pattern: '^/[^\\s]*[^/\\s]$', doc: 'server logs (clickhouse-server.log, .err.log); instances: LOG/ID unless given' }),
  clickhouse_max_server_memory_mb: v.int({
    default: 32768,
    minimum: 0,
    doc: "max_server_memory_usage, MiB (datalyptica-minimal-5vm.md: 32 GB for ClickHouse per VM); 0: ClickHouse's own (90% of RAM). Not rendered for versions before 20.4, which lack it",
  }),
  clickhouse_coordination: v.oneOf(['auto', 'keeper', 'zookeeper', 'none'] as const, {
    default: 'auto',
    doc: 'the <zookeeper> section: keeper: the hosts of group clickhouse_keeper (port clickhouse_keeper_port, 9181); zookeeper: group zookeeper (zookeeper_client_port, 2181; vps-trio); auto: Keeper when its group has hosts, else ZooKeeper, else none',
  }),
  clickhouse_distributed_ddl_path: v.str({ default: '/clickhouse/task_queue/ddl', pattern: '^/[^\\s]*$', doc: 'distributed_ddl path (ON CLUSTER queries) in the coordination service' }),
  clickhouse_admin_user: v.str({ default: 'admin', pattern: NAME, doc: "a user with every right (access_management where the version has it), from every network, password clickhouse_admin_password" }),
  clickhouse_admin_password: v.str({
    default: '',
    secret: true,
    emptyAllowed: true,
    doc: "the admin user's password, from a secret; empty: generated once for the cluster (a secret cluster value). users.d holds its sha256 only",
  }),
  clickhouse_users: v.list<UserSpec>(
    {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: NAME },
        profile: { type: 'string', pattern: NAME },
        quota: { type: 'string', pattern: NAME },
        networks: { type: 'array', items: { type: 'string', minLength: 1 } },
        access_management: { type: 'boolean' },
      },
    },
    { default: [], doc: 'more users, each { name, profile (default), quota (default), networks (::/0), access_management }, with a password in clickhouse_passwords' },
  ),
  clickhouse_passwords: v.map<string>({ type: 'string', minLength: 1 }, { default: {}, secret: true, doc: 'passwords of clickhouse_users (name -> password), from secrets; users.d holds their sha256 only' }),
  clickhouse_default_user_networks: v.list<string>(
    { type: 'string', minLength: 1 },
    { default: [], doc: "where the package's passwordless `default` user may connect from; empty: loopback and the cluster's hosts (Distributed queries, the health checks)" },
  ),
  clickhouse_health_timeout: v.int({ default: 180, minimum: 10, doc: 'seconds a server has to answer SELECT 1 with no read-only replica after a (re)start' }),
};

type ChVars = VarsOf<typeof vars>;

function versionOf(x: ChVars): string {
  return x.clickhouse_source === 'distribution' ? x.clickhouse_distribution_version : x.clickhouse_version;
}

function defaults(x: ChVars) {
  return {
    tcpPort: x.clickhouse_tcp_port,
    httpPort: x.clickhouse_http_port,
    interserverPort: x.clickhouse_interserver_port,
    dataDir: x.clickhouse_data_dir,
    logDir: x.clickhouse_log_dir,
    maxServerMemoryMb: x.clickhouse_max_server_memory_mb,
  };
}

function cluster(ctx: Pick<OfflineContext<ChVars>, 'vars' | 'group'>) {
  const all = servers(ctx.group(CH_GROUP), defaults(ctx.vars));
  const coord = coordinationNodes(ctx.vars.clickhouse_coordination, ctx.group(KEEPER_GROUP), ctx.group(ZK_GROUP));
  return { all, coord };
}

function mineOf(ctx: Pick<OfflineContext<ChVars>, 'vars' | 'group' | 'host'>) {
  const c = cluster(ctx);
  return { ...c, mine: c.all.filter((s) => s.host === ctx.host.name) };
}

/** what the rollout and the health check wait for on this host */
const unitOf = (id: string) => (id ? `clickhouse-server@${id}.service` : 'clickhouse-server');

const DOC = `
clickhouse: ClickHouse servers of the inventory group \`clickhouse\`, replicated through ClickHouse Keeper or
ZooKeeper, as the seeds lay them out:
- datalyptica-enterprise-50vm.md: ch01, ch02 shard 1 (replicas 1, 2), ch03 shard 2 (host vars clickhouse_shard /
  clickhouse_replica), cluster analytics_cluster, Keeper on the three (group clickhouse_keeper, 9181). The seed's
  remote_servers also lists ch01 as a second replica of shard 2 ("2 shards, 2 replicas per shard" on 3 nodes, circular
  replication): one server holding replicas of two shards needs a database per shard, which this role does not set
  up; it renders what the host vars say (ch03's shard with one replica) or, for a real second replica, an instance.
- datalyptica-minimal-5vm.md: ClickHouse on VM4 ("Shard-1") and VM5 ("shard 2 + replica"), 2 Keepers. Read here as
  ONE shard with two replicas (VM4 replica vm4, VM5 replica vm5: the role's defaults, no host vars): with two nodes
  and replication, each node holds all data whatever the shard count, and the seed's HA row ("Replication + Keeper,
  2 nodes") needs every shard replicated. Two shards each replicated on both nodes would take two servers per VM
  (clickhouse_instances) for the same storage. The 2-member Keeper quorum is flagged by \`orch plan\`.
- vps-trio-resource-analysis.md: two replicas of one shard on one VPS (clickhouse-01 native 9000, clickhouse-02 19000)
  as clickhouse_instances (units clickhouse-server@01/@02, each its own config dir, ports, data and log dirs, its
  resource_limits clickhouse-01/-02 as MemoryMax/CPUQuota), ZooKeeper (the zookeeper role, 2181) for replication.

Settings are drop-ins, never edits of the package's config.xml / users.xml: config.d/orch.xml (listen_host, HTTP 8123,
native 9000, interserver 9009 at the host's address, path/tmp/user_files/format_schemas under clickhouse_data_dir
(/data/clickhouse), logs, max_server_memory_usage, macros {cluster} {shard} {replica}, remote_servers, the <zookeeper>
nodes and distributed_ddl) and users.d/orch.xml. Instances read /etc/clickhouse-server/instances/ID/config.xml, a link
to the package's config.xml, so that their config.d/users.d sit beside it. The root element is the installed
version's: <clickhouse> from 22.1, <yandex> before; the settings are those the version knows (18.16, Debian's: no
max_server_memory_usage, no SQL access control; the MySQL/PostgreSQL ports of newer packages are switched off on a
host's second instance).

Users: the admin user (clickhouse_admin_user) with the password of clickhouse_admin_password, else one generated once
for the cluster (a secret cluster value; the engine keeps its copy in /var/lib/orch/values, root-only, as for every
cluster value), and clickhouse_users with clickhouse_passwords: users.d holds only password_sha256_hex, computed on the
controller. The package's passwordless \`default\` user is confined to loopback and the cluster's hosts
(clickhouse_default_user_networks), which Distributed queries between the servers and the health checks use.

Source: clickhouse_source repository (default, production): packages.clickhouse.com (apt source signed by its key,
checked by fingerprint; yum repo on RHEL), clickhouse-common-static / -server / -client pinned to clickhouse_version;
distribution: Debian/Ubuntu's clickhouse-server (18.16; RHEL has none). Health: SELECT 1 over HTTP and no read-only
replica in system.replicas, per server; a restart is rolled one host at a time behind that check (a host's instances
restart together when the shared template changes, alone when only their own files do).
`;

export default defineRole({
  name: 'clickhouse',
  doc: DOC,
  description: 'ClickHouse servers of group clickhouse (or instances per host): config.d/users.d drop-ins for the installed version, remote_servers, macros, Keeper/ZooKeeper, sha256 users, rolling restarts',
  vars,
  validate(ctx) {
    const { all, coord, mine } = mineOf(ctx);
    const problems: string[] = [];
    if (!mine.length) problems.push(`host ${ctx.host.name} runs clickhouse but is not in the inventory group ${CH_GROUP}, whose hosts make the cluster`);
    problems.push(...layoutProblems(all, coord.nodes));
    if (ctx.vars.clickhouse_coordination !== 'auto' && ctx.vars.clickhouse_coordination !== 'none' && !coord.nodes.length) {
      problems.push(`clickhouse_coordination: ${ctx.vars.clickhouse_coordination}: group ${ctx.vars.clickhouse_coordination === 'keeper' ? KEEPER_GROUP : ZK_GROUP} has no hosts`);
    }
    // common would make them root:root 0755 and this role clickhouse:clickhouse 0750: no run would be clean
    const common = Array.isArray(ctx.host.vars.common_data_dirs) ? (ctx.host.vars.common_data_dirs as string[]).map((d) => d.replace(/\/+$/, '')) : [];
    for (const s of mine) {
      for (const d of [s.dataDir, s.logDir]) {
        if (common.includes(d)) problems.push(`common_data_dirs has ${d}, which the clickhouse role owns (clickhouse:clickhouse 0750; common would make it root:root 0755 again on every run): leave it to the role`);
      }
    }
    for (const u of ctx.vars.clickhouse_users) {
      if (!ctx.vars.clickhouse_passwords[u.name]) problems.push(`clickhouse_users: ${u.name} has no password in clickhouse_passwords`);
      if (u.name === 'default' || u.name === ctx.vars.clickhouse_admin_user) problems.push(`clickhouse_users: ${u.name} is managed by the role already (default / clickhouse_admin_user)`);
    }
    for (const [n, pw] of Object.entries(ctx.vars.clickhouse_passwords)) {
      if (!ctx.vars.clickhouse_users.some((u) => u.name === n)) problems.push(`clickhouse_passwords: ${n} is not in clickhouse_users`);
      if (/^(changeme|password|secret|todo)$/i.test(pw)) problems.push(`clickhouse_passwords: the password of ${n} is a placeholder`);
    }
    try {
      parseVersionOrThrow(versionOf(ctx.vars));
    } catch (e) {
      problems.push((e as Error).message);
    }
    return problems;
  },
  declares: (ctx) => {
    const { mine } = mineOf(ctx);
    return {
      ports: mine.flatMap((s) => {
        const who = s.id ? ` (instance ${s.id})` : '';
        const variable = s.id ? 'clickhouse_instances' : undefined;
        return [
          { port: s.httpPort, variable: variable ?? 'clickhouse_http_port', description: `ClickHouse HTTP${who}` },
          { port: s.tcpPort, variable: variable ?? 'clickhouse_tcp_port', description: `ClickHouse native protocol${who}` },
          { port: s.interserverPort, variable: variable ?? 'clickhouse_interserver_port', description: `ClickHouse interserver HTTP (replication)${who}` },
        ];
      }),
      memoryMb: mine.reduce((n, s) => n + s.maxServerMemoryMb, 0) || undefined,
      dataDirs: mine.map((s) => s.dataDir),
    };
  },
  clusterValues: () => [
    {
      name: 'clickhouse_admin_password',
      doc: "the ClickHouse admin user's password (users.d keeps its sha256 only)",
      group: CH_GROUP,
      secret: true,
      override: 'clickhouse_admin_password',
      pattern: /^[^\s]{8,}$/,
      generate: () => randomBytes(18).toString('base64url'),
    },
  ],
  rollout: (ctx) => {
    const { mine } = mineOf(ctx);
    return {
      services: ['clickhouse-server', 'clickhouse-server@*'],
      health: { command: healthCommand(mine), description: `ClickHouse on ${ctx.host.name} answers SELECT 1 over HTTP, no read-only replica`, timeoutSec: ctx.vars.clickhouse_health_timeout, intervalSec: 2 },
      serial: 1,
    };
  },
  operations(ctx) {
    const { vars: x, host, group } = ctx;
    const facts = host.facts;
    const version = versionOf(x);
    const f = features(version, x.clickhouse_source);
    const { all, coord, mine } = mineOf(ctx);
    const instances = mine.some((s) => s.id !== '');
    const list: Operation<any>[] = [];

    // packages: the repository first (its key checked by fingerprint); the package's server not started on install
    if (x.clickhouse_source === 'repository') {
      if (facts.osFamily === 'redhat') {
        list.push(ops.file({ path: YUM_REPO, content: yumRepo(x.clickhouse_repository_url, x.clickhouse_repository_channel), owner: 'root', group: 'root', mode: 0o644 }));
      } else {
        list.push(
          ops.packages({ names: ['gnupg', 'curl', 'ca-certificates'], osFamily: facts.osFamily }),
          ops.command({ name: `ClickHouse's repository key in ${APT_KEYRING}`, run: aptKeyScript(x.clickhouse_repository_url), creates: APT_KEYRING }),
          ops.file({ path: APT_SOURCE, content: aptSource(x.clickhouse_repository_url, x.clickhouse_repository_channel), owner: 'root', group: 'root', mode: 0o644 }),
          ops.file({ path: APT_PIN, content: aptPin(x.clickhouse_version), owner: 'root', group: 'root', mode: 0o644 }),
        );
      }
    }
    list.push(
      ops.packages({
        names: [...serverPackages(x.clickhouse_source, x.clickhouse_version, facts), 'curl'],
        osFamily: facts.osFamily,
        updateCache: x.clickhouse_source === 'repository',
        noStart: ['clickhouse-server'],
      }),
    );
    if (x.clickhouse_source === 'distribution') {
      // the files are rendered for clickhouse_distribution_version: the installed server must be that one
      list.push(
        ops.command({
          name: `the installed clickhouse-server is ${version} (what the files are rendered for)`,
          // checked after the install (run) and, once it holds, by the guard (a converged host runs nothing)
          run: `v=$(dpkg-query -W -f='\${Version}' clickhouse-server)\ncase "$v" in ${version}.*) exit 0 ;; esac\necho "orch: clickhouse-server $v is installed, the files are rendered for ${version}: set clickhouse_distribution_version" >&2\nexit 1`,
          unless: `case "$(dpkg-query -W -f='\${Version}' clickhouse-server 2>/dev/null)" in ${version}.*) exit 0 ;; esac; exit 1`,
        }),
      );
    }

    const users = renderUsers({
      features: f,
      defaultNetworks: x.clickhouse_default_user_networks.length ? x.clickhouse_default_user_networks : [...new Set(['::1', '127.0.0.1', ...group(CH_GROUP).map((p) => p.address)])],
      users: [
        { name: x.clickhouse_admin_user, access_management: true, passwordSha256: sha256Hex(ctx.cluster('clickhouse_admin_password')) },
        ...x.clickhouse_users.map((u) => ({ ...u, passwordSha256: sha256Hex(x.clickhouse_passwords[u.name] ?? '') })),
      ],
    });
    const after = [...(host.groups.includes(ZK_GROUP) && coord.kind === 'zookeeper' ? ['zookeeper.service'] : []), ...(host.groups.includes(KEEPER_GROUP) && coord.kind === 'keeper' && host.vars.clickhouse_keeper_mode !== 'embedded' ? ['clickhouse-keeper.service'] : [])];

    const serverFiles = (s: (typeof mine)[number], etc: string, notify: string) => {
      const own = { owner: 'clickhouse', group: 'clickhouse' };
      return [
        ops.dir({ path: s.dataDir, ...own, mode: 0o750 }),
        ops.dir({ path: s.logDir, ...own, mode: 0o750 }),
        ops.dir({ path: `${etc}/config.d`, owner: 'root', group: 'clickhouse', mode: 0o750 }),
        ops.dir({ path: `${etc}/users.d`, owner: 'root', group: 'clickhouse', mode: 0o750 }),
        ops.file({
          path: `${etc}/config.d/orch.xml`,
          content: renderServerConfig({
            features: f,
            me: s,
            cluster: x.clickhouse_cluster_name,
            servers: all,
            coordination: coord.nodes,
            listenHosts: x.clickhouse_listen_hosts,
            dropWireProtocols: s.id !== '' && mine.indexOf(s) > 0,
            distributedDdlPath: x.clickhouse_distributed_ddl_path,
          }),
          owner: 'root',
          group: 'clickhouse',
          mode: 0o640,
          notify: [notify],
        }),
        // users.d is reloaded by the server itself (no restart); the file holds sha256 hashes only
        ops.file({ path: `${etc}/users.d/orch.xml`, content: users, owner: 'root', group: 'clickhouse', mode: 0o640, secret: true }),
      ];
    };

    if (!instances) {
      const s = mine[0];
      list.push(
        ...serverFiles(s, '/etc/clickhouse-server', 'clickhouse-server'),
        ops.unit({
          name: 'clickhouse-server.service',
          content: renderUnit({ binary: f.binary, config: '/etc/clickhouse-server/config.xml', instance: false, after }),
          notify: ['clickhouse-server'],
          resources: serviceLimits(host.vars, 'clickhouse-server') ?? serviceLimits(host.vars, 'clickhouse'),
        }),
        ops.service({ name: 'clickhouse-server', enabled: true, state: 'started' }),
        // instances of an earlier layout: stopped, disabled, their drop-ins and the template removed
        ...ops.instances({ service: 'clickhouse-server', unit: '', instances: [] }),
      );
    } else {
      // the package's single server would read the package's config on 9000/8123: off, the instances run instead
      list.push(ops.service({ name: 'clickhouse-server', enabled: false, state: 'stopped' }));
      for (const s of mine) {
        const etc = `/etc/clickhouse-server/instances/${s.id}`;
        list.push(
          ops.dir({ path: etc, owner: 'root', group: 'clickhouse', mode: 0o750 }),
          // the package's files, read through links so that config.d/ and users.d/ beside them are this instance's
          ops.symlink({ path: `${etc}/config.xml`, target: '/etc/clickhouse-server/config.xml' }),
          ops.symlink({ path: `${etc}/users.xml`, target: '/etc/clickhouse-server/users.xml' }),
          ...serverFiles(s, etc, `${unitOf(s.id)}`),
        );
      }
      list.push(
        ...ops.instances({
          service: 'clickhouse-server',
          unit: renderUnit({ binary: f.binary, config: '/etc/clickhouse-server/instances/%i/config.xml', instance: true, after }),
          instances: mine.map((s) => {
            const lim = serviceLimits(host.vars, `clickhouse-${s.id}`);
            return { id: s.id, serviceLines: [...(lim?.memoryMax ? [`MemoryMax=${lim.memoryMax}`] : []), ...(lim?.cpuQuota ? [`CPUQuota=${lim.cpuQuota}`] : [])] };
          }),
        }),
      );
    }
    list.push(
      ops.healthCheck({
        name: `ClickHouse ${mine.map((s) => `:${s.httpPort}`).join(', ')} answers SELECT 1 over HTTP, no read-only replica`,
        command: healthCommand(mine),
        timeoutS: x.clickhouse_health_timeout,
        intervalS: 2,
      }),
    );
    return list;
  },
});

function parseVersionOrThrow(v: string) {
  features(v, 'repository');
}
