/** etcd: see DOC below (also shown by `orch roles show etcd`). */
import { randomBytes } from 'node:crypto';
import { artifactSource, release } from '../../src/artifacts/index.js';
import { ops, q } from '../../src/ops/index.js';
import { defineRole, type OfflineContext } from '../../src/role/define.js';
import type { Operation } from '../../src/ops/types.js';
import { v, type VarsOf } from '../../src/role/vars.js';
import {
  ETCD_GROUP,
  RELEASE_HOME,
  etcdPaths,
  healthCommand,
  leaderCommand,
  localEndpoint,
  members,
  rejoinScript,
  releaseArch,
  renderEnv,
  renderUnit,
  rolloutHealthCommand,
  waitHealthyScript,
} from './render.js';

const vars = {
  etcd_source: v.oneOf(['release', 'package'] as const, {
    default: 'release',
    doc: "release: etcd's GitHub release archive (official URL, pinned sha256); package: the distribution's (Debian etcd-server/etcd-client 3.4, Fedora/EPEL etcd)",
  }),
  etcd_version: v.str({ default: '3.5.16', pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$', doc: 'release to install (a version of the artifact catalogue, src/artifacts); the seeds: 3.5.16' }),
  artifact_mirror: v.str({ default: '', doc: 'base URL replacing the official one, keeping the release path (v3.5.16/etcd-v3.5.16-linux-amd64.tar.gz); empty: GitHub' }),
  etcd_sha256: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{64})$', doc: 'sha256 of the archive at the mirror when it is not the official one; empty: the pinned one' }),
  etcd_sha512: v.str({ default: '', pattern: '^(|[0-9a-fA-F]{128})$', doc: 'or its sha512 (a test build); empty: the pinned sha256' }),
  etcd_name: v.str({ default: '', pattern: '^(|[A-Za-z0-9._-]+)$', doc: "this member's name in the cluster; empty: the inventory host name" }),
  etcd_client_port: v.port({ default: 2379, doc: 'client port (etcdctl, Patroni)' }),
  etcd_peer_port: v.port({ default: 2380, doc: 'peer port (Raft between members)' }),
  etcd_listen_address: v.str({ default: '0.0.0.0', minLength: 1, doc: 'address the client and peer ports listen on (an IP; 0.0.0.0: all)' }),
  etcd_data_dir: v.str({ default: '/var/lib/etcd', pattern: '^/[^\\s]*[^/\\s]$', doc: 'data directory (etcd user, 0700); a member whose data dir is wiped is re-added to its cluster' }),
  etcd_heartbeat_interval: v.int({ default: 100, minimum: 10, doc: 'Raft heartbeat, ms (etcd default)' }),
  etcd_election_timeout: v.int({ default: 1000, minimum: 100, doc: 'Raft election timeout, ms (etcd default; 5-10x the heartbeat)' }),
  etcd_extra: v.map<string | number>(
    { type: ['string', 'integer'], pattern: '^[^\\n]*$' },
    { default: {}, doc: 'more ETCD_* settings for the environment file, e.g. { ETCD_AUTO_COMPACTION_RETENTION: "1", ETCD_QUOTA_BACKEND_BYTES: 4294967296 }' },
  ),
  etcd_initial_cluster_token: v.str({
    default: '',
    pattern: '^(|[A-Za-z0-9._-]{1,64})$',
    doc: 'initial cluster token; empty: the cluster value orch generated on the first deploy and reads back from the members',
  }),
};

type EtcdVars = VarsOf<typeof vars>;
const TOKEN = 'etcd_initial_cluster_token';

function clusterMembers(ctx: Pick<OfflineContext<EtcdVars>, 'vars' | 'group'>) {
  return members(ctx.group(ETCD_GROUP), { clientPort: ctx.vars.etcd_client_port, peerPort: ctx.vars.etcd_peer_port });
}

const DOC = `
etcd: the datalyptica seeds' "etcd 3.5.16, 2379/2380, Raft consensus, 3 (all VMs), quorum 2/3" (phase 2,
coordination layer, on the control plane), the DCS Patroni keeps its leader lock in.

- Source: \`etcd_source: release\` (default, production): etcd's GitHub release archive for the host's architecture,
  official URL + the sha256 pinned in src/artifacts (etcd publishes SHA256SUMS, no sha512), unpacked to
  /opt/etcd/releases/<version> with /opt/etcd/current and etcdctl/etcdutl in /usr/local/bin;
  \`package\`: the distribution's (Debian/Ubuntu \`etcd-server\` + \`etcd-client\`, 3.4.23 on bookworm; Fedora/EPEL
  \`etcd\`), installed without letting the package start its default one-member cluster.
- Members: every host of the inventory group \`etcd\`, named by the host name (or \`etcd_name\`), peer and client URLs
  from its address; the initial cluster token is a cluster value (generated once, read back from the hosts,
  \`etcd_initial_cluster_token\` to set it).
- Configuration: ETCD_* settings in /etc/default/etcd (Debian) or /etc/etcd/etcd.conf (RHEL), a systemd unit of
  orch's own (Type=notify, user etcd).
- A member whose data dir is empty while the others answer (its data was lost) does not bootstrap a second
  cluster: it is removed and added again (\`etcdctl member remove\` / \`member add\`) and joins with
  initial-cluster-state existing, getting the data from the others; when that cannot be done the run stops naming
  the host and the commands to finish by hand.
- Health: \`etcdctl endpoint health\` on every member; config changes restart one member at a time behind it
  (and a known leader), the leader last.
- Plain HTTP between members and clients (the seeds give no certificates for etcd); firewall with common_firewall.
`;

export default defineRole({
  name: 'etcd',
  doc: DOC,
  description: 'etcd cluster (3.5.16 release or the distribution package) of the inventory group etcd: bootstrap, re-add a member whose data was lost, health',
  vars,
  validate(ctx) {
    const problems: string[] = [];
    const ms = clusterMembers(ctx);
    if (!ms.some((m) => m.host === ctx.host.name)) problems.push(`host ${ctx.host.name} runs etcd but is not in the inventory group ${ETCD_GROUP}, whose hosts make the cluster`);
    const seen = new Map<string, string>();
    for (const m of ms) {
      const other = seen.get(m.name);
      if (other) problems.push(`hosts ${other} and ${m.host} have the same etcd member name ${m.name}: set etcd_name on one of them`);
      seen.set(m.name, m.host);
    }
    for (const k of Object.keys(ctx.vars.etcd_extra)) {
      if (!/^ETCD_[A-Z0-9_]+$/.test(k)) problems.push(`etcd_extra: ${k} is not an ETCD_* setting`);
    }
    return problems;
  },
  declares: ({ vars: x }) => ({
    ports: [
      { port: x.etcd_client_port, variable: 'etcd_client_port', description: 'etcd client API' },
      { port: x.etcd_peer_port, variable: 'etcd_peer_port', description: 'etcd peers (Raft)' },
    ],
    memoryMb: 2048, // the seed: etcd 2 GB, 1 CPU per control-plane VM
    cpus: 1,
    dataDirs: [x.etcd_data_dir],
    quorum: [{ group: ETCD_GROUP, kind: 'raft', protects: 'etcd writes, and with them Patroni leader elections (PostgreSQL failover)' }],
  }),
  clusterValues: () => [
    {
      name: TOKEN,
      doc: 'etcd initial cluster token',
      group: ETCD_GROUP,
      read: "sed -n 's/^ETCD_INITIAL_CLUSTER_TOKEN=//p' /etc/default/etcd /etc/etcd/etcd.conf 2>/dev/null | head -n 1",
      generate: () => `etcd-${randomBytes(12).toString('hex')}`,
      pattern: /^[A-Za-z0-9._-]{1,64}$/,
      override: TOKEN,
    },
  ],
  rollout: ({ vars: x, host }) => {
    const { etcdctl } = etcdPaths(x.etcd_source, host.facts);
    const local = localEndpoint(x.etcd_listen_address, x.etcd_client_port);
    return {
      services: ['etcd'],
      health: { command: rolloutHealthCommand(etcdctl, local), description: 'etcd member healthy (etcdctl endpoint health) and a leader known', timeoutSec: 120, intervalSec: 2 },
      leader: leaderCommand(etcdctl, local),
    };
  },
  operations(ctx) {
    const { vars: x, host } = ctx;
    const paths = etcdPaths(x.etcd_source, host.facts);
    const ms = clusterMembers(ctx);
    const me = ms.find((m) => m.host === host.name)!;
    const local = localEndpoint(x.etcd_listen_address, x.etcd_client_port);
    const list: Operation<any>[] = [
      ops.group({ name: 'etcd', system: true }),
      ops.user({ name: 'etcd', group: 'etcd', system: true, home: x.etcd_data_dir, createHome: false, shell: '/usr/sbin/nologin' }),
    ];
    if (x.etcd_source === 'package') {
      list.push(ops.packages({ names: paths.packages, osFamily: host.facts.osFamily, noStart: ['etcd'] }));
    } else {
      const rel = release('etcd', x.etcd_version, releaseArch(host.facts.arch));
      const src = artifactSource(rel, { mirror: x.artifact_mirror, sha512: x.etcd_sha512 || undefined, sha256: x.etcd_sha256 || undefined });
      list.push(
        ops.artifact({ url: src.url, sha512: src.sha512, sha256: src.sha256, dest: `/opt/etcd/releases/${x.etcd_version}`, link: RELEASE_HOME, stripComponents: 1 }),
        ops.symlink({ path: '/usr/local/bin/etcdctl', target: `${RELEASE_HOME}/etcdctl` }),
        ops.symlink({ path: '/usr/local/bin/etcdutl', target: `${RELEASE_HOME}/etcdutl` }),
      );
    }
    const envDir = paths.env.slice(0, paths.env.lastIndexOf('/'));
    if (envDir !== '/etc/default') list.push(ops.dir({ path: envDir, owner: 'root', group: 'root', mode: 0o755 }));
    list.push(
      ops.dir({ path: x.etcd_data_dir, owner: 'etcd', group: 'etcd', mode: 0o700 }),
      ops.file({
        path: paths.env,
        content: renderEnv({
          me,
          members: ms,
          token: ctx.cluster(TOKEN),
          dataDir: x.etcd_data_dir,
          listenAddress: x.etcd_listen_address,
          clientPort: x.etcd_client_port,
          peerPort: x.etcd_peer_port,
          heartbeatMs: x.etcd_heartbeat_interval,
          electionMs: x.etcd_election_timeout,
          extra: x.etcd_extra,
        }),
        owner: 'root',
        group: 'etcd',
        mode: 0o640,
        notify: ['etcd'],
      }),
      ops.unit({ name: 'etcd.service', content: renderUnit({ etcd: paths.etcd, env: paths.env, name: me.name }), notify: ['etcd'] }),
      ops.command({
        name: `etcd: ${me.name} has no data in ${x.etcd_data_dir}: join the existing cluster if the other members answer, else bootstrap it`,
        run: rejoinScript({ me, members: ms, etcdctl: paths.etcdctl, dataDir: x.etcd_data_dir }),
        unless: `[ -d ${q(`${x.etcd_data_dir}/member`)} ]`,
      }),
      ops.service({ name: 'etcd', enabled: true, state: 'started' }),
      ops.waitForPort({ host: new URL(local).hostname.replace(/^\[|\]$/g, ''), port: x.etcd_client_port, timeoutS: 120 }),
      ops.command({
        name: 'etcd: this member is healthy (etcdctl endpoint health)',
        run: waitHealthyScript(paths.etcdctl, local, 180),
        unless: healthCommand(paths.etcdctl, local),
      }),
    );
    return list;
  },
});
