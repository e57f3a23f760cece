/**
 * The offline plan: phases x hosts x ordered roles, with every host's variables resolved, templated and
 * validated against the roles' schemas. `orch plan` stops here; `orch run` executes it. All problems are
 * collected and thrown together as one InputError before any host is touched.
 */
import AjvModule, { type ValidateFunction } from 'ajv';
import { InputError, type InputProblem, formatProblem } from '../core/errors.js';
import type { ConnectionSpec, Inventory, VarLayer, VarOrigin } from '../inventory/types.js';
import { resolveHostVars } from '../inventory/vars.js';
import { selectHosts } from '../inventory/patterns.js';
import { connectionSpec } from '../inventory/connection.js';
import type { RoleDefinition } from '../role/define.js';
import type { RoleRegistry } from '../role/registry.js';
import type { Phase, Playbook } from './load.js';
import { DependencyCycle, findCycle, orderRoles } from './order.js';
import { render, TemplateError } from './templating.js';
import { isPlaceholder } from './secrets.js';
import { suggestion } from './typos.js';
import type { HostDeclarations } from '../role/declare.js';
import { capacity, collectDeclarations, notAutomated, portConflicts, quorums, roleValidations, sharedAddresses, type CapacityRow, type NotAutomated, type QuorumGroup } from './checks.js';

export interface PlanOptions {
  inventory: Inventory;
  playbook: Playbook;
  registry: RoleRegistry;
  extraVars?: VarLayer[];
  limit?: string;
  /** only this phase (number or name) */
  phase?: string;
  /** this phase and the ones after it (number or name) */
  fromPhase?: string;
  tags?: string[];
  skipTags?: string[];
  env?: Record<string, string | undefined>;
}

export interface PlannedRole {
  name: string;
  def: RoleDefinition;
  /** the role's variables: defaults overridden by the inventory, validated */
  vars: Record<string, unknown>;
}

export interface PlannedHost {
  name: string;
  roles: PlannedRole[];
  /** what every role of this host declares across the playbook (ports for the firewall ...) */
  declared?: HostDeclarations;
}

export interface PlannedPhase {
  phase: Phase;
  hosts: PlannedHost[];
}

export interface RunPlan {
  playbook: Playbook;
  inventory: Inventory;
  /** the phases this run executes, in order */
  phases: PlannedPhase[];
  /** every inventory host's resolved variables (role defaults of the roles it runs included) */
  hostVars: Map<string, Record<string, unknown>>;
  /** every role a host runs anywhere in the playbook, whichever phases this run selects: for `exported()` */
  hostRoles: Map<string, PlannedRole[]>;
  origins: Map<string, Record<string, VarOrigin>>;
  connections: Map<string, ConnectionSpec>;
  roles: Map<string, RoleDefinition>;
  /** secret values, to be masked in every output */
  secretValues: Set<string>;
  /** names of secret variables */
  secretKeys: Set<string>;
  warnings: string[];
  /** per host: what its roles declare (ports, memory, CPU, data dirs, quorum), across the playbook */
  declared?: Map<string, HostDeclarations>;
  /** declared memory and CPU against the host's size (hosts with a declaration or a size) */
  capacity?: CapacityRow[];
  /** consensus groups from the roles' quorum declarations */
  quorums?: QuorumGroup[];
  /** service groups of the inventory with the hosts where no role of the playbook deploys them */
  notAutomated?: NotAutomated[];
}

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new (Ajv as any)({ allErrors: true, strict: false });
const validators = new Map<RoleDefinition, ValidateFunction>();
/** One compiled validator per role (an object of its variables): compiling is the costly part of ajv. */
function validatorFor(def: RoleDefinition): ValidateFunction {
  let v = validators.get(def);
  if (!v) {
    const properties = Object.fromEntries(Object.entries(def.vars).map(([k, spec]) => [k, spec.schema]));
    v = ajv.compile({ type: 'object', properties }) as ValidateFunction;
    validators.set(def, v);
  }
  return v;
}

/** ajv errors of a role's variables, grouped by variable: `{ heap: 'must match pattern "^[0-9]+[mg]$"' }` */
function errorsByVar(v: ValidateFunction): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of v.errors ?? []) {
    const [, key, ...rest] = e.instancePath.split('/');
    if (!key) continue;
    const msg = `${rest.length ? '/' + rest.join('/') + ' ' : ''}${e.message}`;
    out.set(key, out.has(key) ? `${out.get(key)}; ${msg}` : msg);
  }
  return out;
}

/** Find a phase by 1-based number or by name. */
export function findPhase(phases: Phase[], ref: string): Phase | undefined {
  if (/^\d+$/.test(ref)) return phases[Number(ref) - 1];
  return phases.find((p) => p.name === ref);
}

/**
 * The strings a secret variable holds: itself when it is a string, else every string inside it (the passwords of a
 * secret map such as `postgresql_passwords: { airflow: ... }`; its keys, the owners, are no secret). Empty ones are
 * no secret to mask.
 */
export function secretStrings(v: unknown): string[] {
  if (typeof v === 'string') return v.length > 0 ? [v] : [];
  if (Array.isArray(v)) return v.flatMap(secretStrings);
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(secretStrings);
  return [];
}

export async function buildPlan(o: PlanOptions): Promise<RunPlan> {
  const { inventory: inv, playbook } = o;
  const problems: InputProblem[] = [];
  const warnings: string[] = [];
  const pbFile = playbook.file;

  // 1. roles: load every role the playbook names, check dependencies exist and have no cycle
  const roles = new Map<string, RoleDefinition>();
  for (const ph of playbook.phases) {
    for (const [j, r] of ph.roles.entries()) {
      if (roles.has(r.name)) continue;
      if (!o.registry.has(r.name)) {
        problems.push({ file: pbFile, line: ph.line, key: `[${ph.index - 1}].roles[${j}]`, message: `unknown role ${r.name} (available: ${o.registry.names().join(', ')})` });
        continue;
      }
      roles.set(r.name, await o.registry.load(r.name));
    }
  }
  for (const def of roles.values()) {
    for (const d of def.dependsOn ?? []) {
      if (!roles.has(d) && o.registry.has(d)) roles.set(d, await o.registry.load(d));
    }
  }
  const reported = new Set<string>();
  for (const name of roles.keys()) {
    const cycle = findCycle(name, (n) => roles.get(n)?.dependsOn);
    if (cycle && !reported.has([...cycle].sort().join())) {
      reported.add([...cycle].sort().join());
      problems.push({ file: pbFile, message: `role dependency cycle: ${cycle.join(' -> ')}` });
    }
  }
  if (problems.length) throw new InputError(problems);

  // 2. hosts of each phase; roles per host across all phases (for defaults and dependency checks)
  const phaseHosts = new Map<number, string[]>();
  const rolesOfHost = new Map<string, Set<string>>();
  for (const ph of playbook.phases) {
    const hosts = selectHosts(inv, ph.hosts);
    if (hosts.length === 0) warnings.push(`phase ${ph.index} (${ph.name}): host pattern "${ph.hosts}" matches no host of the inventory`);
    phaseHosts.set(ph.index, hosts);
    for (const h of hosts) {
      const set = rolesOfHost.get(h) ?? new Set<string>();
      ph.roles.forEach((r) => set.add(r.name));
      rolesOfHost.set(h, set);
    }
  }

  // dependencies: in the same phase (ordered before) or in an earlier phase on the same host
  for (const ph of playbook.phases) {
    for (const h of phaseHosts.get(ph.index) ?? []) {
      for (const r of ph.roles) {
        for (const d of roles.get(r.name)?.dependsOn ?? []) {
          if (ph.roles.some((x) => x.name === d)) continue;
          const earlier = playbook.phases.some((p2) => p2.index < ph.index && p2.roles.some((x) => x.name === d) && phaseHosts.get(p2.index)?.includes(h));
          if (earlier) continue;
          const later = playbook.phases.find((p2) => p2.index > ph.index && p2.roles.some((x) => x.name === d) && phaseHosts.get(p2.index)?.includes(h));
          const msg = later
            ? `role ${r.name} depends on ${d}, which is scheduled later (phase ${later.index} ${later.name}) on host ${h}: move ${d} to phase ${ph.index} or earlier`
            : `role ${r.name} depends on ${d}, which runs on host ${h} in no phase up to ${ph.index}: add ${d} to this or an earlier phase for that host`;
          const p = { file: pbFile, line: ph.line, key: `[${ph.index - 1}].roles`, message: msg };
          if (!problems.some((x) => x.message === msg)) problems.push(p);
        }
      }
    }
  }

  // 3. variables of every host: role defaults < inventory layers < -e, templated
  const hostVars = new Map<string, Record<string, unknown>>();
  const origins = new Map<string, Record<string, VarOrigin>>();
  const connections = new Map<string, ConnectionSpec>();
  const secretKeys = new Set<string>();
  const secretValues = new Set<string>();
  const env = o.env ?? process.env;
  for (const def of roles.values()) for (const [k, spec] of Object.entries(def.vars)) if (spec.secret) secretKeys.add(k);
  for (const k of ['ansible_password', 'ansible_become_password', 'ansible_become_pass', 'ansible_ssh_pass']) secretKeys.add(k);

  for (const host of inv.hosts.keys()) {
    const defaults: Record<string, unknown> = {};
    const defaultOrigins: Record<string, VarOrigin> = {};
    for (const rn of rolesOfHost.get(host) ?? []) {
      const def = roles.get(rn);
      if (!def) continue;
      for (const dep of [rn, ...(def.dependsOn ?? [])]) {
        const d = roles.get(dep);
        for (const [k, spec] of Object.entries(d?.vars ?? {})) {
          if (spec.default !== undefined && !(k in defaults)) {
            defaults[k] = spec.default;
            defaultOrigins[k] = { file: `roles/${dep}`, key: k };
          }
        }
      }
    }
    const resolved = resolveHostVars(inv, host, {
      roleDefaults: [{ label: 'role defaults', values: defaults, origins: defaultOrigins }],
      extraVars: o.extraVars ?? [],
    });
    const values: Record<string, unknown> = { ...resolved.values };
    const ctx = { env, lookup: (n: string) => resolved.values[n] };
    for (const [k, v] of Object.entries(values)) {
      try {
        values[k] = render(v, ctx);
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        const or = resolved.origins[k];
        problems.push({ file: or?.file ?? inv.source, line: or?.line, key: or?.key ?? k, message: e.message });
      }
    }
    hostVars.set(host, values);
    origins.set(host, resolved.origins);
    connections.set(host, connectionSpec(host, values, resolved.origins));
    for (const k of secretKeys) for (const v of secretStrings(values[k])) secretValues.add(v);
  }

  // 4. validate each role's variables on each host that runs it
  const seen = new Set<string>();
  const addOnce = (p: InputProblem) => {
    const f = formatProblem(p);
    if (!seen.has(f)) {
      seen.add(f);
      problems.push(p);
    }
  };
  for (const [host, rset] of rolesOfHost) {
    const values = hostVars.get(host)!;
    const or = origins.get(host)!;
    for (const rn of rset) {
      const def = roles.get(rn);
      if (!def) continue;
      const validate = validatorFor(def);
      const roleVars = Object.fromEntries(Object.keys(def.vars).filter((k) => values[k] !== undefined).map((k) => [k, values[k]]));
      const invalid = validate(roleVars) ? new Map<string, string>() : errorsByVar(validate);
      for (const [k, spec] of Object.entries(def.vars)) {
        const val = values[k];
        const where = or[k];
        if (val === undefined) {
          addOnce({ file: inv.source, key: k, message: `role ${rn} on host ${host} needs ${k} (${spec.doc}); set it in group_vars/ or host_vars/${host}.yml` });
          continue;
        }
        const detail = invalid.get(k);
        if (detail) {
          const shown = spec.secret ? '***' : JSON.stringify(val);
          addOnce({ file: where?.file ?? inv.source, line: where?.line, key: where?.key ?? k, message: `${shown} is not valid for role ${rn}: ${detail} (${spec.doc})` });
        }
        if (spec.secret && isPlaceholder(val) && !(spec.emptyAllowed && val === '')) {
          addOnce({
            file: where?.file ?? inv.source,
            line: where?.line,
            key: where?.key ?? k,
            message: `secret ${k} is still a placeholder: set it from the environment ({{ lookup('env', 'NAME') }}) or a secrets file kept outside the inventory (-e @secrets.yml)`,
          });
        }
      }
    }
  }
  if (problems.length) throw new InputError(problems);

  // 4b. variables set in the inventory that no role declares but that look like a misspelt role variable
  const declaredAll = new Set([...roles.values()].flatMap((d) => Object.keys(d.vars)));
  const warned = new Set<string>();
  for (const [host, rset] of rolesOfHost) {
    const declared = [...rset].flatMap((rn) => Object.keys(roles.get(rn)?.vars ?? {}));
    for (const [k, where] of Object.entries(origins.get(host) ?? {})) {
      if (where.file.startsWith('roles/')) continue;
      const meant = suggestion(k, declared, declaredAll);
      const at = `${where.file}${where.line ? ':' + where.line : ''}: ${where.key}`;
      if (meant && !warned.has(at)) {
        warned.add(at);
        warnings.push(`${at}: no role uses ${k}; did you mean ${meant}?`);
      }
    }
  }

  const roleOf = (h: string, name: string): PlannedRole => {
    const def = roles.get(name)!;
    const vals = hostVars.get(h)!;
    return { name, def, vars: Object.fromEntries(Object.keys(def.vars).map((k) => [k, vals[k]])) };
  };
  const hostRoles = new Map([...rolesOfHost].map(([h, set]) => [h, [...set].filter((n) => roles.has(n)).map((n) => roleOf(h, n))]));

  // 4c. the roles' own offline checks (validate), then declarations (src/role/declare.ts): port conflicts are errors;
  // capacity, quorum sizes, unautomated services warnings
  const decl = collectDeclarations({ inventory: inv, hostVars, hostRoles });
  const cap = capacity(decl.declared, hostVars, origins, inv.source);
  problems.push(...roleValidations({ inventory: inv, hostVars, hostRoles, origins }), ...decl.problems, ...portConflicts(decl.declared, origins, inv.source), ...cap.problems);
  problems.push(...sharedAddresses(decl.declared, hostRoles, connections, origins, inv));
  if (problems.length) throw new InputError(problems);
  const quorum = quorums(decl.declared);
  const unautomated = notAutomated(inv, hostRoles, decl.declared);
  warnings.push(...cap.warnings, ...quorum.warnings);
  if (unautomated.length) {
    warnings.push(`not yet automated: ${unautomated.length} service group(s) of the inventory are deployed by no role of the playbook: ${unautomated.map((n) => n.group).join(', ')}`);
  }

  // 5. the phases this run executes, with hosts limited and roles filtered by tags
  const limitSet = o.limit ? new Set(selectHosts(inv, o.limit)) : null;
  if (limitSet && limitSet.size === 0) throw new InputError([{ file: '--limit', key: o.limit, message: `--limit ${o.limit} matches no host of the inventory ${inv.source}` }]);
  let selected = playbook.phases;
  for (const [flag, ref] of [['--phase', o.phase], ['--from-phase', o.fromPhase]] as const) {
    if (ref === undefined) continue;
    const p = findPhase(playbook.phases, ref);
    if (!p) throw new InputError([{ file: pbFile, message: `${flag} ${ref}: no such phase (phases: ${playbook.phases.map((x) => `${x.index} ${x.name}`).join(', ')})` }]);
    selected = flag === '--phase' ? [p] : playbook.phases.filter((x) => x.index >= p.index);
  }
  const phases: PlannedPhase[] = [];
  for (const ph of selected) {
    const wanted = ph.roles.filter((r) => tagged(o, [...ph.tags, ...r.tags, r.name, ph.name]));
    let ordered: typeof wanted;
    try {
      ordered = orderRoles(wanted.map((r) => ({ ...r, dependsOn: roles.get(r.name)?.dependsOn ?? [] })));
    } catch (e) {
      if (e instanceof DependencyCycle) throw new InputError([{ file: pbFile, line: ph.line, message: e.message }]);
      throw e;
    }
    const hosts = (phaseHosts.get(ph.index) ?? []).filter((h) => !limitSet || limitSet.has(h));
    phases.push({
      phase: ph,
      hosts: hosts.map((h) => ({ name: h, roles: ordered.map((r) => roleOf(h, r.name)), declared: decl.declared.get(h) })),
    });
  }
  return {
    playbook,
    inventory: inv,
    phases,
    hostVars,
    hostRoles,
    origins,
    connections,
    roles,
    secretValues,
    secretKeys,
    warnings,
    declared: decl.declared,
    capacity: cap.rows,
    quorums: quorum.groups,
    notAutomated: unautomated,
  };
}

function tagged(o: PlanOptions, tags: string[]): boolean {
  if (o.skipTags?.some((t) => tags.includes(t))) return false;
  if (!o.tags || o.tags.length === 0 || o.tags.includes('all')) return true;
  return o.tags.some((t) => tags.includes(t));
}
