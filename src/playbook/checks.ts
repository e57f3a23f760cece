/**
 * Offline checks of the roles' declarations (src/role/declare.ts), run by buildPlan once every variable is
 * valid: port conflicts (errors, exit 4), a capacity table against the host's size, consensus group sizes,
 * and the service groups of the inventory that no role of the playbook deploys yet (warnings).
 */
import type { InputProblem } from '../core/errors.js';
import type { Inventory, VarOrigin } from '../inventory/types.js';
import type { HostFacts, PeerHost, RoleDefinition } from '../role/define.js';
import type { DeclaredPort, Declarations, HostDeclarations, QuorumDeclaration } from '../role/declare.js';

/** What the checks need of a planned role: its name, definition and variables on that host. */
export interface RoleOnHost {
  name: string;
  def: RoleDefinition;
  vars: Record<string, unknown>;
}

export interface DeclareInput {
  inventory: Inventory;
  hostVars: Map<string, Record<string, unknown>>;
  /** every role a host runs anywhere in the playbook, in playbook order */
  hostRoles: Map<string, RoleOnHost[]>;
  /** where each host's variables are set, to place a role's problems */
  origins?: Map<string, Record<string, VarOrigin>>;
}

/** Hosts as roles see them offline (no facts): address, groups, resolved variables. */
export function peerHosts(inv: Inventory, hostVars: Map<string, Record<string, unknown>>, hostRoles?: Map<string, RoleOnHost[]>): Map<string, PeerHost> {
  const out = new Map<string, PeerHost>();
  for (const [name, h] of inv.hosts) {
    const vars = hostVars.get(name) ?? {};
    const roles = hostRoles ? (hostRoles.get(name) ?? []).map((r) => r.name) : undefined;
    out.set(name, { name, address: String(vars.ansible_host ?? vars.host ?? name), groups: h.groups, vars, ...(roles ? { roles } : {}) });
  }
  return out;
}

/** Calls `declares()` of every role on every host that runs it; a role whose declares() throws is a problem. */
export function collectDeclarations(o: DeclareInput): { declared: Map<string, HostDeclarations>; problems: InputProblem[] } {
  const peers = peerHosts(o.inventory, o.hostVars, o.hostRoles);
  const all = [...peers.values()];
  const declared = new Map<string, HostDeclarations>();
  const problems: InputProblem[] = [];
  for (const [host, roles] of o.hostRoles) {
    const hd: HostDeclarations = { host, roles: [], ports: [], memoryMb: 0, cpus: 0, dataDirs: [] };
    for (const r of roles) {
      if (!r.def.declares) continue;
      let d: Declarations;
      try {
        d = r.def.declares({ vars: r.vars, host: peers.get(host)!, group: (g) => all.filter((p) => p.groups.includes(g)), allHosts: () => all });
      } catch (e) {
        problems.push({ file: `roles/${r.name}`, message: `declares() of role ${r.name} failed on host ${host}: ${(e as Error).message}` });
        continue;
      }
      hd.roles.push({ role: r.name, ...d });
      for (const p of d.ports ?? []) hd.ports.push({ ...p, protocol: p.protocol ?? 'tcp', role: r.name });
      hd.memoryMb += d.memoryMb ?? 0;
      hd.cpus += d.cpus ?? 0;
      for (const dir of d.dataDirs ?? []) if (!hd.dataDirs.includes(dir)) hd.dataDirs.push(dir);
    }
    declared.set(host, hd);
  }
  return { declared, problems };
}

/**
 * Calls `validate()` of every role on every host that runs it (offline context, as for `declares()`): each string it
 * returns is a problem naming the role and the host; the same problem reported by several hosts is kept once.
 * It is placed where the fix goes: a message that starts with one of the role's variables (`redis_master_host: ...`)
 * at that variable where the inventory sets it; else at the inventory entry of the host it names (`host vm4 has no
 * id`, `hosts vm1 and vm2 ...`), else of the host whose check found it.
 */
export function roleValidations(o: DeclareInput): InputProblem[] {
  const peers = peerHosts(o.inventory, o.hostVars, o.hostRoles);
  const all = [...peers.values()];
  const problems: InputProblem[] = [];
  const seen = new Set<string>();
  for (const [host, roles] of o.hostRoles) {
    for (const r of roles) {
      if (!r.def.validate) continue;
      let found: string[];
      try {
        found = r.def.validate({ vars: r.vars, host: peers.get(host)!, group: (g) => all.filter((p) => p.groups.includes(g)), allHosts: () => all });
      } catch (e) {
        found = [`validate() failed on host ${host}: ${(e as Error).message}`];
      }
      for (const m of found) {
        if (seen.has(`${r.name}|${m}`)) continue;
        seen.add(`${r.name}|${m}`);
        problems.push({ ...locateProblem(o, host, r, m), message: `role ${r.name} (host ${host}): ${m}` });
      }
    }
  }
  return problems;
}

function locateProblem(o: DeclareInput, host: string, r: RoleOnHost, message: string): { file: string; line?: number; key?: string } {
  const variable = /^([A-Za-z_][A-Za-z0-9_]*):/.exec(message)?.[1];
  const set = variable && variable in r.def.vars ? o.origins?.get(host)?.[variable] : undefined;
  if (set && !set.file.startsWith('roles/')) return set;
  const named = /\bhosts? ([^\s,:;()]+)/.exec(message)?.[1];
  const about = named && o.inventory.hosts.has(named) ? named : host;
  return o.inventory.hosts.get(about)?.origin ?? { file: o.inventory.source, key: about };
}

/**
 * Members of one cluster that are one machine: two hosts with the same address and SSH port (`ansible_host` /
 * `ansible_port`) in a consensus group (the roles' quorum declarations) or in a group a clustered role serves (one
 * with rolling restarts or cluster values). A cluster counts such a pair as two members, so its quorum and copies
 * are not what the inventory says: one problem per pair, naming both hosts, at the later one's address variable.
 */
export function sharedAddresses(
  declared: Map<string, HostDeclarations>,
  hostRoles: Map<string, RoleOnHost[]>,
  connections: Map<string, { address: string; port: number }>,
  origins: Map<string, Record<string, VarOrigin>>,
  inv: Inventory,
): InputProblem[] {
  const clusters = new Map<string, { roles: Set<string>; members: string[] }>();
  const add = (group: string, role: string, host: string) => {
    const c = clusters.get(group) ?? { roles: new Set<string>(), members: [] };
    c.roles.add(role);
    if (!c.members.includes(host)) c.members.push(host);
    clusters.set(group, c);
  };
  for (const [host, hd] of declared) {
    const defs = new Map((hostRoles.get(host) ?? []).map((r) => [r.name, r.def]));
    for (const r of hd.roles) {
      for (const q of r.quorum ?? []) add(q.group, r.role, host);
      const def = defs.get(r.role);
      if (def?.rollout || def?.clusterValues) for (const g of r.serves ?? []) add(g, r.role, host);
    }
  }
  const found = new Map<string, { hosts: string[]; where: string; clusters: string[] }>();
  for (const [group, c] of clusters) {
    const byAddress = new Map<string, string[]>();
    for (const h of c.members) {
      const spec = connections.get(h);
      if (!spec) continue;
      const k = `${spec.address}, SSH port ${spec.port}`;
      byAddress.set(k, [...(byAddress.get(k) ?? []), h]);
    }
    for (const [where, hosts] of byAddress) {
      if (hosts.length < 2) continue;
      const id = `${where}|${hosts.join()}`;
      const f = found.get(id) ?? { hosts, where, clusters: [] };
      f.clusters.push(`${group} (role ${[...c.roles].join(', ')})`);
      found.set(id, f);
    }
  }
  const problems: InputProblem[] = [];
  for (const { hosts, where, clusters: names } of found.values()) {
    const later = hosts[hosts.length - 1];
    const o = origins.get(later) ?? {};
    const set = ['ansible_host', 'ansible_ssh_host', 'host'].map((k) => o[k]).find((x) => x && !x.file.startsWith('roles/'));
    const at = set ?? inv.hosts.get(later)?.origin ?? { file: inv.source, key: later };
    const list = hosts.length === 2 ? hosts.join(' and ') : `${hosts.slice(0, -1).join(', ')} and ${later}`;
    problems.push({
      ...at,
      message: `hosts ${list} are one machine (${where}) but members of one cluster: ${names.join(', ')}; a cluster needs each member on its own host: give each its own ansible_host`,
    });
  }
  return problems;
}

const portLabel = (p: DeclaredPort) => `role ${p.role} (${p.variable ? `${p.variable}: ` : ''}${p.description})`;

/**
 * Two declarations of one port and protocol on one host: one problem per conflict (hosts with the same conflict
 * together), at the variable to change: that of the role later in the playbook, where the inventory sets it.
 */
export function portConflicts(declared: Map<string, HostDeclarations>, origins: Map<string, Record<string, VarOrigin>>, inventorySource: string): InputProblem[] {
  const byConflict = new Map<string, { port: string; users: DeclaredPort[]; hosts: string[] }>();
  for (const [host, hd] of declared) {
    const byPort = new Map<string, DeclaredPort[]>();
    for (const p of hd.ports) {
      const k = `${p.port}/${p.protocol}`;
      byPort.set(k, [...(byPort.get(k) ?? []), p]);
    }
    for (const [port, users] of byPort) {
      if (users.length < 2) continue;
      const sig = `${port}|${users.map((u) => `${u.role}:${u.variable ?? ''}`).join('|')}`;
      const c = byConflict.get(sig) ?? { port, users, hosts: [] };
      c.hosts.push(host);
      byConflict.set(sig, c);
    }
  }
  const problems: InputProblem[] = [];
  for (const { port, users, hosts } of byConflict.values()) {
    const change = [...users.slice(1)].reverse().find((u) => u.variable) ?? users.find((u) => u.variable);
    const onHosts = `${hosts.length > 1 ? 'hosts' : 'host'} ${hosts.join(', ')}`;
    const fix = change?.variable
      ? `set ${change.variable} (role ${change.role}) to a free port for ${hosts.length > 1 ? 'these hosts' : 'this host'}`
      : `give role ${users[users.length - 1].role} another port`;
    const message = `port ${port} on ${onHosts} is asked for by ${users.map(portLabel).join(' and ')}: two services cannot listen on one port; ${fix}`;
    const where = change?.variable ? origins.get(hosts[0])?.[change.variable] : undefined;
    if (where && !where.file.startsWith('roles/')) problems.push({ file: where.file, line: where.line, key: where.key, message });
    else problems.push({ file: inventorySource, key: change?.variable, message });
  }
  return problems;
}

export interface CapacityRow {
  host: string;
  /** summed over the host's roles */
  memoryMb: number;
  cpus: number;
  /** the host's size from the inventory (`host_memory_gb`, `host_vcpus`); undefined when not given */
  hostMemoryMb?: number;
  hostCpus?: number;
  byRole: Array<{ role: string; memoryMb: number; cpus: number }>;
  overMemory: boolean;
  overCpu: boolean;
}

/** Host size variables read by the capacity check (GiB of memory, vCPUs). */
export const HOST_SIZE_VARS = { memory: 'host_memory_gb', cpus: 'host_vcpus' } as const;

export function fmtGb(mb: number): string {
  const gb = mb / 1024;
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}
export const fmtCpus = (n: number) => String(Math.round(n * 100) / 100);

/**
 * Declared memory and CPU per host against its size (inventory `host_memory_gb` / `host_vcpus`); a warning
 * per oversubscribed host, a problem for a size that is not a positive number.
 */
export function capacity(
  declared: Map<string, HostDeclarations>,
  hostVars: Map<string, Record<string, unknown>>,
  origins: Map<string, Record<string, VarOrigin>>,
  inventorySource: string,
): { rows: CapacityRow[]; warnings: string[]; problems: InputProblem[] } {
  const rows: CapacityRow[] = [];
  const warnings: string[] = [];
  const problems: InputProblem[] = [];
  for (const [host, hd] of declared) {
    const vars = hostVars.get(host) ?? {};
    const size = (k: string): number | undefined => {
      const v = vars[k];
      if (v === undefined || v === null || v === '') return undefined;
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
      if (!(n > 0)) {
        const o = origins.get(host)?.[k];
        const p = { file: o?.file ?? inventorySource, line: o?.line, key: o?.key ?? k, message: `${JSON.stringify(v)} is not a valid ${k} of host ${host}: a positive number expected` };
        if (!problems.some((x) => x.file === p.file && x.line === p.line && x.key === p.key)) problems.push(p);
        return undefined;
      }
      return n;
    };
    const gb = size(HOST_SIZE_VARS.memory);
    const hostCpus = size(HOST_SIZE_VARS.cpus);
    const hostMemoryMb = gb === undefined ? undefined : gb * 1024;
    const byRole = hd.roles.filter((r) => r.memoryMb || r.cpus).map((r) => ({ role: r.role, memoryMb: r.memoryMb ?? 0, cpus: r.cpus ?? 0 }));
    const row: CapacityRow = {
      host,
      memoryMb: hd.memoryMb,
      cpus: hd.cpus,
      hostMemoryMb,
      hostCpus,
      byRole,
      overMemory: hostMemoryMb !== undefined && hd.memoryMb > hostMemoryMb,
      overCpu: hostCpus !== undefined && hd.cpus > hostCpus + 1e-9,
    };
    if (!byRole.length && hostMemoryMb === undefined && hostCpus === undefined) continue;
    rows.push(row);
    warnings.push(...oversubscribed(hd, hostMemoryMb, hostCpus, HOST_SIZE_VARS.memory, HOST_SIZE_VARS.cpus));
  }
  return { rows, warnings, problems };
}

function oversubscribed(hd: HostDeclarations, memoryMb: number | undefined, cpus: number | undefined, memFrom: string, cpuFrom: string): string[] {
  const parts = (k: 'memoryMb' | 'cpus', f: (n: number) => string) =>
    hd.roles
      .filter((r) => (r[k] ?? 0) > 0)
      .sort((a, b) => (b[k] ?? 0) - (a[k] ?? 0))
      .map((r) => `${r.role} ${f(r[k]!)}`)
      .join(', ');
  const out: string[] = [];
  if (memoryMb !== undefined && hd.memoryMb > memoryMb)
    out.push(`capacity: ${hd.host} is oversubscribed: its roles declare ${fmtGb(hd.memoryMb)} of memory (${parts('memoryMb', fmtGb)}) on ${fmtGb(memoryMb)} (${memFrom})`);
  if (cpus !== undefined && hd.cpus > cpus + 1e-9) out.push(`capacity: ${hd.host} is oversubscribed: its roles declare ${fmtCpus(hd.cpus)} CPUs (${parts('cpus', fmtCpus)}) on ${fmtCpus(cpus)} (${cpuFrom})`);
  return out;
}

/**
 * At run time: the declarations against what the host's facts say it may use (its cgroup limits, else the
 * machine), for the hosts this run reached; one warning per oversubscribed resource.
 */
export function capacityFromFacts(declared: Map<string, HostDeclarations> | undefined, facts: Map<string, Pick<HostFacts, 'memoryMb' | 'cpus'>>): string[] | undefined {
  const out: string[] = [];
  for (const [host, f] of facts) {
    const hd = declared?.get(host);
    if (hd) out.push(...oversubscribed(hd, f.memoryMb || undefined, f.cpus || undefined, 'memory of the host, from its facts', 'CPUs of the host, from its facts'));
  }
  return out.length ? out : undefined;
}

export interface QuorumGroup extends QuorumDeclaration {
  /** the roles whose hosts are members */
  roles: string[];
  members: string[];
  /** members the group can lose and still have a majority */
  tolerates: number;
  /** why this size is a problem (an even size, 2 members), or undefined */
  problem?: string;
}

const KIND = { raft: 'Raft', zab: 'ZAB', sentinel: 'Sentinel' } as const;

/** Consensus groups from the members' declarations; an even size (2 included) gets the failure it cannot survive. */
export function quorums(declared: Map<string, HostDeclarations>): { groups: QuorumGroup[]; warnings: string[] } {
  const groups = new Map<string, QuorumGroup>();
  for (const [host, hd] of declared) {
    for (const r of hd.roles) {
      for (const q of r.quorum ?? []) {
        const g = groups.get(q.group) ?? { ...q, roles: [], members: [], tolerates: 0 };
        if (!g.members.includes(host)) g.members.push(host);
        if (!g.roles.includes(r.role)) g.roles.push(r.role);
        groups.set(q.group, g);
      }
    }
  }
  const warnings: string[] = [];
  for (const g of groups.values()) {
    const n = g.members.length;
    g.tolerates = Math.floor((n - 1) / 2);
    const what = `${g.group} (${KIND[g.kind]}, role ${g.roles.join(', ')}) has ${n} members (${g.members.join(', ')})`;
    if (n === 2) g.problem = `losing either one stops ${g.protects}: a majority of 2 is 2; give it a third member`;
    else if (n >= 4 && n % 2 === 0)
      g.problem = `losing ${n / 2} stops ${g.protects}: ${n} members survive the loss of ${g.tolerates}, no more than ${n - 1} would; use ${n - 1} or ${n + 1}`;
    if (g.problem) warnings.push(`quorum: ${what}: ${g.problem}`);
  }
  return { groups: [...groups.values()], warnings };
}

export interface NotAutomated {
  group: string;
  /** hosts of the group none of whose roles deploys it */
  hosts: string[];
}

/** Inventory group variable that marks a group as a service placement (true) or a structural group (false). */
export const SERVICE_GROUP_VAR = 'orch_service_group';
const STRUCTURAL = new Set(['all', 'ungrouped']);

/**
 * The groups that place a service (kafka, trino_worker) rather than structure the inventory (control_plane,
 * all): a group with hosts that is the child of no group but `all`. A group's own `orch_service_group: true|false`
 * (inventory vars or group_vars/) overrides the rule.
 */
export function serviceGroups(inv: Inventory): string[] {
  const parents = new Map<string, string[]>();
  for (const g of inv.groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const out: string[] = [];
  for (const g of inv.groups.values()) {
    if (STRUCTURAL.has(g.name)) continue;
    const override = [...g.vars].reverse().find((l) => SERVICE_GROUP_VAR in l.values)?.values[SERVICE_GROUP_VAR];
    const byRule = (parents.get(g.name) ?? []).every((p) => p === 'all');
    if (override === undefined ? byRule : override === true || override === 'true') out.push(g.name);
  }
  return out;
}

/** The groups a role serves on a host: its declared `serves` and the group of its own name. */
function servedBy(role: string, d: Declarations | undefined): string[] {
  return [role.replace(/-/g, '_'), role, ...(d?.serves ?? [])];
}

/** Service groups (see serviceGroups) with the hosts on which no role of the playbook deploys them. */
export function notAutomated(inv: Inventory, hostRoles: Map<string, RoleOnHost[]>, declared: Map<string, HostDeclarations>): NotAutomated[] {
  const out: NotAutomated[] = [];
  for (const g of serviceGroups(inv)) {
    const hosts = [...inv.hosts.values()].filter((h) => h.groups.includes(g)).map((h) => h.name);
    const missing = hosts.filter((h) => {
      const decl = declared.get(h)?.roles;
      return !(hostRoles.get(h) ?? []).some((r) => servedBy(r.name, decl?.find((x) => x.role === r.name)).includes(g));
    });
    if (missing.length) out.push({ group: g, hosts: missing });
  }
  return out;
}

/** `not yet automated: ...` lines, for plan output and the run recap. */
export function notAutomatedLines(list: NotAutomated[]): string[] {
  if (!list.length) return [];
  const w = Math.max(...list.map((n) => n.group.length));
  return [`not yet automated (placed by the inventory, deployed by no role of the playbook): ${list.length} service group(s)`, ...list.map((n) => `  ${n.group.padEnd(w)}  ${n.hosts.join(', ')}`)];
}

/** The capacity table of `orch plan`: declared memory and CPU against each host's size. */
export function capacityLines(rows: CapacityRow[]): string[] {
  if (!rows.length) return [];
  const pct = (used: number, of?: number) => (of ? ` ${Math.round((used / of) * 100)}%` : '');
  const cells = rows.map((r) => [
    r.host,
    `${fmtGb(r.memoryMb)} / ${r.hostMemoryMb === undefined ? '?' : fmtGb(r.hostMemoryMb)}${pct(r.memoryMb, r.hostMemoryMb)}${r.overMemory ? ' OVER' : ''}`,
    `${fmtCpus(r.cpus)} / ${r.hostCpus === undefined ? '?' : fmtCpus(r.hostCpus)}${pct(r.cpus, r.hostCpus)}${r.overCpu ? ' OVER' : ''}`,
    r.byRole.map((x) => `${x.role} ${fmtGb(x.memoryMb)}/${fmtCpus(x.cpus)}`).join(', ') || '-',
  ]);
  const head = ['host', 'memory (declared / host)', 'cpu (declared / host)', 'by role (memory/cpu)'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i]))).join('  ');
  return [`capacity (roles' declarations against ${HOST_SIZE_VARS.memory} / ${HOST_SIZE_VARS.cpus}; ? = not given)`, '  ' + line(head), ...cells.map((c) => '  ' + line(c))];
}
