/**
 * bench-common: the benchmark workload (shared/bench/ansible-baseline/WORKLOAD.md, "datalyptica common role")
 * as an orch role. It leaves byte-identical state to the Ansible baseline's workload.yml (same files,
 * owners, modes, content; checked by test/unit/bench-role.test.ts and by bench/run.mjs with the
 * baseline's fingerprint.sh).
 *
 * Differences in accounting from Ansible (the end state is the same):
 * - orch gathers every operation's facts in one round trip and applies every change in a second one, per
 *   host; hosts do not wait for each other between steps (no "linear" strategy).
 * - steps 14-16 (sysctl file + live net.* values) are one `sysctl` operation; step 04 is plain code.
 * - step 01 is the role's offline `validate` plus the `node_id` schema; nothing is sent to the host.
 * - steps 02-03 and 38-39 are guarded `command` operations (read-only guards in the facts round trip).
 *   On a fresh host the services are not active yet when facts are gathered, so step 38 re-checks after
 *   starting them and reports `skipped` ("verified after start") instead of Ansible's `ok`.
 */
import { defineRole, type PeerHost, type RoleContext } from '../../../src/role/define.js';
import { v, type VarsOf } from '../../../src/role/vars.js';
import { ops } from '../../../src/ops/index.js';
import type { Operation } from '../../../src/ops/types.js';
import {
  CONFIG_FILES,
  HEADER,
  HOME,
  WORKLOAD as W,
  deployedMarker,
  environmentLine,
  healthScript,
  journaldConf,
  logrotateConf,
  motd,
  profileScript,
  serviceDefaults,
  sudoers,
  tmpfilesConf,
  unitFile,
  type BenchInput,
  type BenchNode,
  type BenchSettings,
  type LimitSetting,
  type SysctlSetting,
} from './render.js';

const vars = {
  node_id: v.int({ minimum: 1, doc: "this host's node id, 1..N (Kafka node.id, Trino node.id suffix, service NODE_ID)" }),
  bench_group: v.str({ default: 'bench', minLength: 1, doc: 'inventory group whose hosts form the cluster (quorum voters, MinIO volumes, cluster.yml)' }),
  datalyptica_user: v.str({ default: W.user, pattern: '^[a-z_][a-z0-9_-]*$', doc: 'system user and group owning data and config' }),
  datalyptica_uid: v.int({ default: W.uid, minimum: 1, maximum: 65533, doc: 'uid of the system user' }),
  datalyptica_gid: v.int({ default: W.gid, minimum: 1, maximum: 65533, doc: 'gid of the system group' }),
  datalyptica_version: v.str({ default: W.version, pattern: '^[0-9A-Za-z._-]+$', doc: 'release directory name under /opt/datalyptica/releases' }),
  datalyptica_cluster_name: v.str({ default: W.clusterName, pattern: '^[A-Za-z0-9_-]+$', doc: 'cluster name (Trino environment, Flink cluster id)' }),
  datalyptica_heap_mb: v.int({ default: W.heapMb, minimum: 64, doc: 'JVM heap in MB (Spark executors get half, Trino query memory a quarter)' }),
  datalyptica_dirs: v.list<string>(
    { type: 'string', pattern: '^/' },
    {
      default: W.dirs,
      doc: 'data and application directories (user:group, 0750), created in this order',
    },
  ),
  datalyptica_sysctl: v.list<SysctlSetting>(
    { type: 'object', required: ['key', 'value'], additionalProperties: false, properties: { key: { type: 'string', pattern: '^[a-z0-9_.-]+$' }, value: { type: 'string' } } },
    {
      default: W.sysctl,
      doc: 'kernel parameters persisted to /etc/sysctl.d/99-datalyptica.conf; only net.* (per network namespace) are applied live',
    },
  ),
  datalyptica_limits: v.list<LimitSetting>(
    { type: 'object', required: ['item', 'value'], additionalProperties: false, properties: { item: { type: 'string', pattern: '^[a-z]+$' }, value: { type: 'integer', minimum: 1 } } },
    { default: W.limits, doc: 'pam_limits soft and hard limits for the user' },
  ),
  datalyptica_services: v.list<number>(
    { type: 'integer', minimum: 1 },
    { default: W.services, doc: 'orch-bench-K services to install, enable and start' },
  ),
};

export type BenchVars = VarsOf<typeof vars>;

/** The role's defaults, typed (node_id has none: it comes from the inventory). */
export const DEFAULTS: Omit<BenchVars, 'node_id'> = Object.fromEntries(
  Object.entries(vars).flatMap(([k, spec]) => (spec.default === undefined ? [] : [[k, spec.default]])),
) as Omit<BenchVars, 'node_id'>;

export function settingsOf(x: Omit<BenchVars, 'node_id'>): BenchSettings {
  return {
    user: x.datalyptica_user,
    version: x.datalyptica_version,
    clusterName: x.datalyptica_cluster_name,
    heapMb: x.datalyptica_heap_mb,
    sysctl: x.datalyptica_sysctl,
    limits: x.datalyptica_limits,
    services: x.datalyptica_services,
  };
}

const nodeOf = (p: PeerHost): BenchNode => ({ name: p.name, id: Number(p.vars.node_id), ip: p.address });

/** Step 04: this host and the cluster as the files see them. */
export function benchInput(ctx: RoleContext<BenchVars>): BenchInput {
  return {
    settings: settingsOf(ctx.vars),
    self: { name: ctx.host.name, id: ctx.vars.node_id, ip: ctx.host.address },
    nodes: ctx.group(ctx.vars.bench_group).map(nodeOf),
  };
}

export default defineRole({
  name: 'bench-common',
  description: 'Benchmark workload: OS tuning + 10 config files + 5 services (the Ansible baseline\'s "datalyptica common role")',
  vars,

  // step 01
  validate(ctx) {
    const problems: string[] = [];
    const peers = ctx.group(ctx.vars.bench_group);
    if (peers.length === 0) problems.push(`group ${ctx.vars.bench_group} has no hosts`);
    else if (!peers.some((p) => p.name === ctx.host.name)) problems.push(`host ${ctx.host.name} is not in group ${ctx.vars.bench_group}`);
    const seen = new Map<number, string>();
    for (const p of peers) {
      const id = p.vars.node_id;
      if (!Number.isInteger(id) || (id as number) < 1) problems.push(`host ${p.name}: node_id must be an integer >= 1, got ${JSON.stringify(id)}`);
      else if (seen.has(id as number)) problems.push(`hosts ${seen.get(id as number)} and ${p.name} have the same node_id ${id}`);
      else seen.set(id as number, p.name);
    }
    return problems;
  },

  operations(ctx): Operation<any>[] {
    const inp = benchInput(ctx);
    const s = inp.settings;
    const user = s.user;
    const units = s.services.map((k) => `orch-bench-${k}`);
    const rootFile = (path: string, content: string, mode = '0644') => ops.file({ path, content, owner: 'root', group: 'root', mode });
    const confFile = (path: string, content: string) => ops.file({ path, content, owner: 'root', group: user, mode: '0640' });
    const appDir = (path: string) => ops.dir({ path, owner: user, group: user, mode: '0750' });

    return [
      // ---------------------------------------------------------------- preflight (01 validate, 04 benchInput)
      ops.command({
        name: '02-03 target is Debian (ID=debian in /etc/os-release)',
        unless: "grep -qx 'ID=debian' /etc/os-release",
        run: "echo 'orch: /etc/os-release does not say ID=debian' >&2\nexit 1",
      }),

      // ---------------------------------------------------------------- identity
      ops.group({ name: user, gid: ctx.vars.datalyptica_gid, system: true }),
      ops.user({ name: user, uid: ctx.vars.datalyptica_uid, group: user, home: HOME, createHome: false, shell: '/usr/sbin/nologin', system: true }),
      ops.file({ path: `/etc/sudoers.d/${user}`, content: sudoers(s), owner: 'root', group: 'root', mode: '0440', validate: 'visudo -cf %s' }),

      // ---------------------------------------------------------------- filesystem layout
      ...ctx.vars.datalyptica_dirs.map(appDir),
      ops.dir({ path: '/etc/datalyptica', owner: 'root', group: user, mode: '0750' }),
      appDir(`${HOME}/releases/${s.version}`),
      ops.symlink({ path: `${HOME}/current`, target: `${HOME}/releases/${s.version}` }),
      rootFile(`${HOME}/bin/datalyptica-health`, healthScript(s), '0755'),
      rootFile('/etc/profile.d/datalyptica.sh', profileScript(HOME)),

      // ---------------------------------------------------------------- OS tuning
      // 14-16: persist every key; apply only net.* live (vm.* and fs.* are global, shared with the host)
      ops.sysctl({
        file: '/etc/sysctl.d/99-datalyptica.conf',
        header: HEADER,
        values: Object.fromEntries(s.sysctl.map((x) => [x.key, x.value])),
        applyLive: (key) => key.startsWith('net.'),
      }),
      ops.limits({
        file: '/etc/security/limits.d/99-datalyptica.conf',
        header: HEADER,
        entries: s.limits.flatMap((l) => (['soft', 'hard'] as const).map((type) => ({ domain: user, type, item: l.item, value: l.value }))),
      }),
      ops.lineInFile({ path: '/etc/environment', regexp: '^DATALYPTICA_HOME=', line: environmentLine(HOME), create: true, owner: 'root', group: 'root', mode: '0644' }),
      rootFile('/etc/tmpfiles.d/datalyptica.conf', tmpfilesConf(s)),
      rootFile('/etc/logrotate.d/datalyptica', logrotateConf()),
      ops.dir({ path: '/etc/systemd/journald.conf.d', owner: 'root', group: 'root', mode: '0755' }),
      rootFile('/etc/systemd/journald.conf.d/99-datalyptica.conf', journaldConf()),
      rootFile('/etc/motd', motd(inp)),

      // ---------------------------------------------------------------- ten per-host configuration files
      ...CONFIG_FILES.map(([name, render]) => confFile(`/etc/datalyptica/${name}`, render(inp))),

      // ---------------------------------------------------------------- services
      rootFile('/etc/default/orch-bench', serviceDefaults(inp)),
      // 35-36: a changed unit makes daemon-reload pending; the service ops flush it before starting
      ...s.services.map((k) => ops.unit({ name: `orch-bench-${k}.service`, content: unitFile(k) })),
      ...units.map((name) => ops.service({ name, enabled: true, state: 'started' })),
      // 38-39: `systemctl is-active` of all of them prints only `active` (as the Ansible task asserts). Read-only
      // when they already are; on a fresh host it is checked again right after starting them.
      ops.command({
        name: `38-39 ${units.join(' ')} are active`,
        unless: `[ "$(systemctl is-active ${units.join(' ')} | sort -u)" = active ]`,
        run: [
          `states=$(systemctl is-active ${units.join(' ')} || true)`,
          `if [ "$(printf '%s\\n' "$states" | sort -u)" != active ]; then echo "orch: not all active: $(echo $states)" >&2; exit 1; fi`,
          "printf '\\036SKIP %s\\n' 'verified after start: all active'",
        ].join('\n'),
      }),
      confFile('/etc/datalyptica/.deployed', deployedMarker(s)),
    ];
  },
});
