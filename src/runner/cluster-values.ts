/**
 * Before a phase: the cluster values its roles declare (src/role/cluster.ts), read on every host of each value's
 * group in one round trip per host (carrying the host facts when they are not known yet), resolved on the
 * controller, and, for the phase's hosts, an operation keeping the engine's copy of each value.
 */
import { posix } from 'node:path';
import { q } from '../ops/quote.js';
import type { PlannedPhase, RunPlan } from '../playbook/plan.js';
import type { HostFacts, OfflineContext, PeerHost } from '../role/define.js';
import {
  CLUSTER_NAME,
  fingerprint,
  resolveClusterValue,
  storePath,
  storeReadCommand,
  type ClusterValueSpec,
  type HostReading,
  type Resolution,
} from '../role/cluster.js';
import type { Fact, Operation, Plan } from '../ops/types.js';
import { file, type FileFact } from '../ops/file.js';
import type { Connection } from '../transport/types.js';
import { factsScript, parseFactsOutput } from './scripts.js';
import { HOST_FACTS_SCRIPT, parseHostFacts } from './host-facts.js';
import type { Profile } from './profile.js';

export interface PhaseValues {
  /** name -> value */
  values: Map<string, string>;
  /** engine operations per phase host (keeping the copies) */
  engineOps: Map<string, Array<{ role: string; op: Operation<any> }>>;
  /** what stops the run (disagreeing hosts, an unreachable holder ...) */
  problems: string[];
  /** hosts that stop before the phase (a value outvoted by the cluster's: `stop-minority`), with the reason */
  stopped: Map<string, string>;
  /** host facts gathered along the way */
  facts: Map<string, HostFacts>;
}

interface Declared {
  spec: ClusterValueSpec;
  role: string;
}

export interface PhaseValuesInput {
  plan: RunPlan;
  phase: PlannedPhase;
  peers: Map<string, PeerHost>;
  connect(host: string): Promise<Connection>;
  knownFacts: (host: string) => HostFacts | undefined;
  stateDir: string;
  check: boolean;
  profile: Profile;
  /**
   * check mode: the copies earlier phases of this run would have written (name -> host -> value). A later phase
   * counts them as on the host (the same value, no second generation, no copy to write again), so that `--check`
   * over several phases that share a value predicts what the run does.
   */
  assumed?: Map<string, Map<string, string>>;
}

const offline = (vars: Record<string, unknown>, self: PeerHost, peers: Map<string, PeerHost>): OfflineContext<any> => ({
  vars,
  host: self,
  group: (g) => [...peers.values()].filter((p) => p.groups.includes(g)),
  allHosts: () => [...peers.values()],
});

/** The cluster values declared by the roles of a phase's hosts, by name (a name declared twice differently is a problem). */
export function declaredValues(plan: RunPlan, phase: PlannedPhase, peers: Map<string, PeerHost>, problems: string[]): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const h of phase.hosts) {
    for (const r of h.roles) {
      if (!r.def.clusterValues) continue;
      for (const spec of r.def.clusterValues(offline(r.vars, peers.get(h.name)!, peers))) {
        if (!CLUSTER_NAME.test(spec.name)) {
          problems.push(`role ${r.name}: cluster value name ${JSON.stringify(spec.name)} must match ${CLUSTER_NAME}`);
          continue;
        }
        const had = out.get(spec.name);
        if (!had) out.set(spec.name, { spec, role: r.name });
        else if (had.spec.group !== spec.group && !problems.some((p) => p.includes(`cluster value ${spec.name} `))) {
          problems.push(`cluster value ${spec.name} is declared for group ${had.spec.group} (role ${had.role}, host ${h.name}) and for group ${spec.group} (role ${r.name}): one value, one group`);
        }
      }
    }
  }
  return out;
}

export async function resolvePhaseValues(inp: PhaseValuesInput): Promise<PhaseValues> {
  const { plan, phase, peers } = inp;
  const problems: string[] = [];
  const out: PhaseValues = { values: new Map(), engineOps: new Map(), problems, facts: new Map(), stopped: new Map() };
  const declared = declaredValues(plan, phase, peers, problems);
  if (!declared.size || problems.length) return out;

  // which hosts to ask, and with which read command (each host's own, from its vars for the declaring role)
  const asks = new Map<string, Array<{ name: string; read?: string }>>();
  for (const [name, d] of declared) {
    const members = [...peers.values()].filter((p) => p.groups.includes(d.spec.group));
    if (!members.length) {
      problems.push(`cluster value ${name} (role ${d.role}): group ${d.spec.group} has no host in the inventory`);
      continue;
    }
    for (const m of members) {
      const role = plan.hostRoles.get(m.name)?.find((r) => r.name === d.role) ?? phase.hosts.find((h) => h.name === m.name)?.roles.find((r) => r.name === d.role);
      const own = role?.def.clusterValues?.(offline(role.vars, m, peers)).find((s) => s.name === name);
      const list = asks.get(m.name) ?? [];
      list.push({ name, read: own?.read ?? (role ? undefined : d.spec.read) });
      asks.set(m.name, list);
    }
  }
  if (problems.length) return out;

  // one round trip per asked host
  const readings = new Map<string, HostReading[]>();
  await Promise.all(
    [...asks].map(async ([host, list]) => {
      const facts: Fact<unknown>[] = [];
      const needFacts = !inp.knownFacts(host);
      if (needFacts) facts.push({ key: 'host', command: HOST_FACTS_SCRIPT, parse: (o) => parseHostFacts(o) });
      for (const a of list) {
        facts.push({ key: `read:${a.name}`, command: a.read ? a.read : 'true', parse: (o, code) => (code === 0 ? o.trim() : '') });
        facts.push({ key: `store:${a.name}`, command: storeReadCommand(inp.stateDir, a.name), parse: (o, code) => (code === 0 ? o.trim() : '') });
      }
      let parsed: unknown[] | undefined;
      let unreachable: string | undefined;
      try {
        const conn = await inp.connect(host);
        const res = await inp.profile.timeAsync('cluster-values', () => conn.runScript(factsScript(facts)));
        if (res.code !== 0) throw new Error(`exit ${res.code}: ${res.stderr.trim().slice(0, 200)}`);
        const outs = parseFactsOutput(res.stdout, facts.length);
        parsed = facts.map((f, i) => f.parse(outs[i].stdout, outs[i].code));
      } catch (e) {
        unreachable = (e as Error).message.split('\n')[0];
      }
      let i = 0;
      if (needFacts && parsed) out.facts.set(host, parsed[i] as HostFacts);
      if (needFacts) i++;
      for (const a of list) {
        const assumed = inp.check ? inp.assumed?.get(a.name)?.get(host) : undefined;
        const r: HostReading = parsed ? { host, read: parsed[i] as string, stored: (parsed[i + 1] as string) || (assumed ?? '') } : { host, read: '', stored: '', unreachable };
        i += 2;
        const l = readings.get(a.name) ?? [];
        l.push(r);
        readings.set(a.name, l);
      }
    }),
  );

  for (const [name, d] of declared) {
    const rs = (readings.get(name) ?? []).sort((a, b) => a.host.localeCompare(b.host));
    const overrides = new Set(
      d.spec.override
        ? rs.map((r) => plan.hostVars.get(r.host)?.[d.spec.override!]).filter((v): v is string | number => (typeof v === 'string' && v !== '') || typeof v === 'number').map(String)
        : [],
    );
    if (overrides.size > 1) {
      problems.push(`cluster value ${name}: the inventory sets ${d.spec.override} differently on the hosts of group ${d.spec.group}: ${[...overrides].map((v) => (d.spec.secret ? fingerprint(v) : JSON.stringify(v))).join(', ')}`);
      continue;
    }
    const res = resolveClusterValue(d.spec, rs, [...overrides][0]);
    if (!res.ok) {
      problems.push(res.problem);
      continue;
    }
    out.values.set(name, res.value);
    for (const [h, why] of res.stopped ?? []) out.stopped.set(h, out.stopped.has(h) ? `${out.stopped.get(h)}; ${why}` : why);
    if (d.spec.secret) plan.secretValues.add(res.value);
    for (const h of phase.hosts) {
      if (!peers.get(h.name)?.groups.includes(d.spec.group) || res.stopped?.has(h.name)) continue;
      // check mode: an earlier phase's copy of this value would already be there
      if (inp.check && inp.assumed?.get(name)?.get(h.name) === res.value) continue;
      const list = out.engineOps.get(h.name) ?? [];
      list.push({ role: d.role, op: keepValue(inp.stateDir, d.spec, res) });
      out.engineOps.set(h.name, list);
    }
  }
  return out;
}

/** The engine's copy of a value on a host: `<stateDir>/values/<name>`, root-only. */
export function keepValue(stateDir: string, spec: ClusterValueSpec, res: Extract<Resolution, { ok: true }>): Operation<FileFact> {
  const op = file({ path: storePath(stateDir, spec.name), content: `${res.value}\n`, mode: 0o600, secret: spec.secret });
  const why =
    res.source === 'generated'
      ? `generate ${spec.name} (no host of group ${spec.group} has one)`
      : res.source === 'inventory'
        ? `keep ${spec.name} from the inventory's ${spec.override}`
        : `restore ${spec.name} from ${res.from.join(', ')}`;
  return {
    ...op,
    kind: 'cluster-value',
    name: spec.name,
    plan(f): Plan {
      const p = op.plan(f);
      if (p.status !== 'change') return { ...p, reason: `${spec.name}: ${p.reason}` };
      const dir = posix.dirname(storePath(stateDir, spec.name));
      return { ...p, reason: f.stat ? `${why}: ${p.reason}` : why, script: `mkdir -p -m 0700 ${q(dir)}\n${p.script}` };
    },
  };
}
