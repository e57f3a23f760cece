/**
 * What the roles' unit tests share: host facts, a role's context on one host of a set of peers (the inventory as
 * the role sees it, offline), and reading what its operations would write.
 *
 *   const c = roleContext(etcd, { peers: SEED, host: 'vm2', facts: { osFamily: 'redhat' }, cluster: { etcd_initial_cluster_token: 'etcd-01' } });
 *   const text = written(named(etcd.operations(c), 'file', '/etc/default/etcd'));
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Operation, Plan } from '../../src/ops/types.js';
import type { HostFacts, PeerHost, RoleContext, RoleDefinition } from '../../src/role/define.js';
import { tmp } from './ops-harness.js';

/** facts of a 64-bit systemd VM (Debian unless said otherwise); osId follows the family */
export function hostFacts(o: Partial<HostFacts> = {}): HostFacts {
  const osFamily = o.osFamily ?? 'debian';
  return {
    osFamily,
    osId: osFamily === 'redhat' ? 'rhel' : 'debian',
    osVersion: osFamily === 'redhat' ? '9.4' : '12',
    arch: 'x86_64',
    user: 'root',
    root: true,
    cpus: 4,
    memoryMb: 16384,
    hostname: 'host',
    systemd: true,
    container: false,
    ...o,
  };
}

/** a peer of the inventory */
export const peer = (name: string, address: string, groups: string[], vars: Record<string, unknown> = {}): PeerHost => ({ name, address, groups, vars });

/** the role's variables at their defaults */
export function defaultsOf(role: Pick<RoleDefinition<any>, 'vars'>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(role.vars).map(([k, s]) => [k, (s as { default?: unknown }).default]));
}

export interface ContextOptions {
  peers: PeerHost[];
  /** this host (default: the first peer); a name no peer has is a host outside every group */
  host?: string;
  facts?: Partial<HostFacts>;
  /** over the role's defaults */
  vars?: Record<string, unknown>;
  /** what other roles export, by role name (e.g. java: { java_home }) */
  exported?: Record<string, Record<string, unknown>>;
  /** resolved cluster values, by name */
  cluster?: Record<string, string>;
}

/** The role's context on one host, as the engine gives it offline (vars merged over the role's defaults). */
export function roleContext(role: Pick<RoleDefinition<any>, 'vars'>, o: ContextOptions): RoleContext<any> {
  const name = o.host ?? o.peers[0].name;
  const self = o.peers.find((p) => p.name === name) ?? peer(name, '192.0.2.99', []);
  return {
    vars: { ...defaultsOf(role), ...o.vars },
    host: { ...self, facts: hostFacts({ hostname: name, ...o.facts }) },
    group: (g: string) => o.peers.filter((p) => p.groups.includes(g)),
    allHosts: () => o.peers,
    exported: (r: string) => o.exported?.[r] ?? {},
    cluster: (n: string) => o.cluster?.[n] ?? '',
  } as RoleContext<any>;
}

/** the first operation of a kind (and name) */
export const named = (list: Operation<any>[], kind: string, name?: string): Operation<any> | undefined =>
  list.find((o) => o.kind === kind && (name === undefined || o.name === name));

/** the content a file operation would write on a host that lacks the file */
export function written(op: Operation<any> | undefined): string {
  if (!op) throw new Error('no such operation');
  const p = op.plan({ stat: null, sha256: null }) as Extract<Plan, { status: 'change' }>;
  if (!p.diff) throw new Error(`${op.kind} ${op.name}: no content to write`);
  return p.diff.after;
}

/** `key=value` lines of a properties file (comments and blank lines left out) */
export const properties = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

/**
 * Sources the env files (given as texts) one after the other as sh does, as a role's one-off commands source them
 * (systemd's EnvironmentFile reads the same syntax), and prints the variables' values, each followed by `|`.
 */
export function sourced(files: string[], names: string[]): string {
  const dir = tmp();
  const paths = files.map((text, i) => {
    const f = join(dir, `${i}.env`);
    writeFileSync(f, text);
    return f;
  });
  const r = spawnSync('sh', ['-c', `set -a; ${paths.map((f) => `. '${f}';`).join(' ')} printf '%s|' ${names.map((n) => `"$${n}"`).join(' ')}`], { encoding: 'utf8' });
  return r.stdout;
}
