/**
 * One host, one phase: operations of its roles -> one facts round trip -> plans on the controller ->
 * (unless --check) one apply round trip holding every change, the pending actions they make due and
 * the restart handlers they notify.
 */
import type { HostFacts, PeerHost, RoleContext, RolloutPolicy } from '../role/define.js';
import type { Fact, FileDiff, Operation, OpResult, PendingAction, Plan } from '../ops/types.js';
import type { Connection } from '../transport/types.js';
import type { PlannedHost, PlannedRole } from '../playbook/plan.js';
import type { EventSink, HostCounts } from '../report/events.js';
import { applyScript, factsScript, parseApplyOutput, parseFactsOutput, type ApplyStep } from './scripts.js';
import { batchable, batchCommand, splitBatch } from './fact-batch.js';
import { q } from '../ops/quote.js';
import type { Profile } from './profile.js';
import { HOST_FACTS_SCRIPT, parseHostFacts } from './host-facts.js';

export interface HostPhaseInput {
  phase: string;
  host: PlannedHost;
  conn: Connection;
  /**
   * the host's facts when already known (an earlier phase); otherwise they are gathered in this phase's facts
   * script: the operations are rendered with `guess`, and rendered again (with a second round trip only for facts
   * the new rendering needs and the first did not gather) when the host turns out to differ from it
   */
  facts?: HostFacts;
  guess?: HostFacts;
  peers: { self: PeerHost; all: PeerHost[] };
  /** every role this host runs in the playbook (for `exported()` of roles from earlier phases) */
  allRoles?: PlannedRole[];
  /** cluster values resolved before the phase (ctx.cluster) */
  cluster?: Map<string, string>;
  /** operations the engine adds before the roles' (copies of cluster values) */
  engineOps?: Array<{ role: string; op: Operation<any> }>;
  check: boolean;
  diff: boolean;
  emit: EventSink;
  profile: Profile;
  /** controller-side work for the operations about to change (artifact downloads into the controller cache) */
  prepare?: (ops: Operation[]) => Promise<void>;
  /** the handler for a notified name (default: `systemctl restart NAME`) */
  handlerScript?: (name: string) => string;
}

/** operations that state a resource (made alike by two roles, one change suffices), unlike commands and checks */
const RESOURCE_KINDS = new Set(['user', 'group', 'dir', 'file', 'symlink', 'lineInFile', 'limits', 'sysctl', 'unit', 'packages']);

interface Item {
  role: string;
  op: Operation<any>;
  plan?: Plan;
}

type Step = ApplyStep & { item?: Item; handler?: string; pending?: PendingAction };

/** A rollout this host takes part in: a role whose rolled services this phase restarts here. */
export interface HostRollout {
  role: string;
  policy: RolloutPolicy;
  /** the restarts (handler names) it covers */
  services: string[];
}

/** A host's phase after facts and plans, before applying (the runner decides when each host applies). */
export interface PreparedHostPhase {
  input: HostPhaseInput;
  counts: HostCounts;
  /** the host's facts (gathered in this phase when they were not known) */
  facts: HostFacts;
  steps: Step[];
  parsed: Map<Fact<unknown>, unknown>;
  items: Item[];
  rollouts: HostRollout[];
  report(it: Item, r: Omit<OpResult, 'kind' | 'name' | 'role'>): void;
}

export class HostPhaseError extends Error {}

const HOST_FACTS: Fact<HostFacts> = { key: 'orch:host-facts', command: HOST_FACTS_SCRIPT, parse: (out) => parseHostFacts(out) };

/** The render guess for a host whose facts are not known yet: a Debian/Ubuntu amd64 host, as most are. */
export function defaultGuess(name: string): HostFacts {
  return { osFamily: 'debian', osId: 'debian', osVersion: '12', arch: 'x86_64', user: 'root', root: true, cpus: 1, memoryMb: 1024, hostname: name, systemd: true, container: false };
}

const sameFacts = (a: HostFacts, b: HostFacts) => JSON.stringify(a) === JSON.stringify(b);

export async function runHostPhase(inp: HostPhaseInput): Promise<HostCounts> {
  return applyHostPhase(await prepareHostPhase(inp));
}

/** Render, gather facts (one round trip), plan; in check mode also report what would change. */
export async function prepareHostPhase(inp: HostPhaseInput): Promise<PreparedHostPhase> {
  const { conn, emit, phase, profile } = inp;
  const counts: HostCounts = { ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0 };
  const report = (it: Item, r: Omit<OpResult, 'kind' | 'name' | 'role'>) => {
    const st = r.status;
    if (st === 'changed') counts.changed++;
    else if (st === 'failed') counts.failed++;
    else if (st === 'skipped') counts.skipped++;
    else counts.ok++;
    emit({ type: 'op-result', phase, host: inp.host.name, result: { kind: it.op.kind, name: it.op.name, role: it.role, ...r } });
  };

  // 1. operations of every role, in order (with the host's facts, or the guess when they are not known yet)
  let hostFacts = inp.facts ?? inp.guess ?? defaultGuess(inp.host.name);
  const contexts = (hf: HostFacts) => {
    const exportsByRole = new Map<string, Record<string, unknown>>();
    const contextOf = (r: PlannedRole): RoleContext<any> => ({
      vars: r.vars,
      host: { ...inp.peers.self, facts: hf },
      group: (g) => inp.peers.all.filter((p) => p.groups.includes(g)),
      allHosts: () => inp.peers.all,
      exported,
      declaredPorts: () => inp.host.declared?.ports ?? [],
      cluster: (name) => {
        const v = inp.cluster?.get(name);
        if (v === undefined) throw new Error(`role ${r.name}: cluster value ${name} is not declared by a role of this phase (clusterValues)`);
        return v;
      },
    });
    // what another role of this host exports (java's java_home ...), whichever phase it runs in
    function exported(name: string): Record<string, unknown> {
      let e = exportsByRole.get(name);
      if (!e) {
        const r = [...inp.host.roles, ...(inp.allRoles ?? [])].find((x) => x.name === name);
        e = r?.def.exports ? r.def.exports(contextOf(r)) : {};
        exportsByRole.set(name, e);
      }
      return e;
    }
    return contextOf;
  };
  const renderAll = (hf: HostFacts): Item[] =>
    profile.time('render', () => {
      const contextOf = contexts(hf);
      const out: Item[] = [...(inp.engineOps ?? [])];
      for (const r of inp.host.roles) for (const op of r.def.operations(contextOf(r))) out.push({ role: r.name, op });
      return out;
    });
  let items = renderAll(hostFacts);

  // 2. facts: one round trip (host facts riding along when not known), deduplicated by key
  const parsed = new Map<Fact<unknown>, unknown>();
  const byKey = new Map<string, { command: string; value: unknown }>();
  const factsOf = (list: Item[]) => {
    const out: Fact<unknown>[] = [];
    const keys = new Set<string>();
    for (const it of list) {
      const f = it.op.fact;
      if (f && !keys.has(f.key)) {
        keys.add(f.key);
        out.push(f);
      }
    }
    return out;
  };
  const gather = async (wanted: Fact<unknown>[]) => {
    const values = await gatherFacts(conn, wanted, profile);
    wanted.forEach((f, i) => byKey.set(f.key, { command: f.command, value: values[i] }));
  };
  const first = factsOf(items);
  await gather(inp.facts ? first : [HOST_FACTS, ...first]);
  if (!inp.facts) {
    const real = byKey.get(HOST_FACTS.key)!.value as HostFacts;
    if (!sameFacts(real, hostFacts)) {
      hostFacts = real;
      items = renderAll(hostFacts);
      const missing = factsOf(items).filter((f) => byKey.get(f.key)?.command !== f.command);
      if (missing.length) await gather(missing);
    }
  }
  for (const it of items) if (it.op.fact) parsed.set(it.op.fact, byKey.get(it.op.fact.key)!.value);
  const factOf = (it: Item) => (it.op.fact ? parsed.get(it.op.fact) : undefined);

  // 3. plans on the controller
  profile.time('diff', () => {
    for (const it of items) it.plan = it.op.plan(factOf(it));
  });

  // 3a. two roles of this host stating one resource alike (zookeeper, kafka and spark each create user spark on
  // spark-kafka-aws's master): the first makes the change, the others are reported ok; their handlers still run
  const duplicateOf = new Map<Item, Item>();
  const firstChange = new Map<string, Item>();
  for (const it of items) {
    const p = it.plan!;
    if (p.status !== 'change' || !RESOURCE_KINDS.has(it.op.kind)) continue;
    const id = `${it.op.kind}\0${it.op.fact?.key ?? it.op.name}`;
    const kept = firstChange.get(id);
    if (!kept) firstChange.set(id, it);
    else if ((kept.plan as Extract<Plan, { status: 'change' }>).script === p.script) duplicateOf.set(it, kept);
  }

  // 3b. --diff: fetch the current content of files about to change (one more round trip)
  if (inp.diff) await fetchBefore(conn, items);

  // 4. steps of the apply script: changes, pending actions right before the ops that flush them, handlers
  const steps: Step[] = [];
  const pending = new Map<string, PendingAction>();
  const notified: string[] = [];
  const started = new Set<string>();
  const flushPending = (keys?: string[]) => {
    for (const [k, a] of pending) {
      if (keys && !keys.includes(k)) continue;
      steps.push({ id: steps.length, script: a.script, pending: a });
      pending.delete(k);
    }
  };
  // checks that only follow changes: without any other change on this host, they are skipped
  const changesHere = items.some((it) => it.plan!.status === 'change' && !(it.plan as Extract<Plan, { status: 'change' }>).onlyWithChanges);
  for (const it of items) {
    const p = it.plan!;
    if (p.status === 'change' && p.onlyWithChanges && !changesHere) it.plan = { status: 'skip', reason: p.onlyWithChanges };
  }
  for (const it of items) {
    const p = it.plan!;
    if (p.status !== 'change') continue;
    if (duplicateOf.has(it)) {
      for (const n of it.op.notify ?? []) if (!notified.includes(n)) notified.push(n);
      continue;
    }
    if (it.op.flushes) flushPending(it.op.flushes);
    steps.push({ id: steps.length, script: p.script, item: it });
    for (const a of p.pending ?? []) pending.set(a.key, a);
    for (const s of p.started ?? []) started.add(unitName(s));
    for (const n of it.op.notify ?? []) if (!notified.includes(n)) notified.push(n);
  }
  flushPending();
  const restarts: string[] = [];
  for (const svc of notified) {
    if (started.has(unitName(handlerService(svc)))) continue; // started in this phase: it already runs the new config
    steps.push({ id: steps.length, script: (inp.handlerScript ?? restartScript)(svc), handler: svc });
    restarts.push(svc);
  }

  // 4b. restarts of services a role rolls out host by host
  const rollouts: HostRollout[] = [];
  if (restarts.length) {
    const contextOf = contexts(hostFacts);
    for (const r of inp.host.roles) {
      if (!r.def.rollout) continue;
      const policy = r.def.rollout(contextOf(r));
      const services = restarts.filter((h) => policy.services.some((s) => rolledBy(s, h)));
      if (services.length) rollouts.push({ role: r.name, policy, services });
    }
  }

  // 5. report ok/skip now; changes are reported after applying (or as would-change in check mode)
  for (const it of items) {
    const p = it.plan!;
    const same = duplicateOf.get(it);
    if (same) report(it, { status: 'ok', reason: `the same change as role ${same.role}'s ${same.op.kind} ${same.op.name} in this phase: made once` });
    else if (p.status === 'ok') report(it, { status: 'ok', reason: p.reason });
    else if (p.status === 'skip') report(it, { status: 'skipped', reason: p.reason });
    else if (inp.check) report(it, { status: 'changed', reason: `would change: ${p.reason}`, diff: p.diff });
  }
  if (inp.check) {
    for (const s of steps) {
      if (!s.handler) continue;
      const rolled = rollouts.find((r) => r.services.includes(s.handler!));
      const verb = s.handler.startsWith(RELOAD) ? 'reload' : 'restart';
      const reason = rolled ? `would ${verb} (notified), rolled host by host behind: ${rolled.policy.health.description}` : `would ${verb} (notified)`;
      emit({ type: 'handler', phase, host: inp.host.name, name: handlerTitle(s.handler), status: 'changed', reason });
    }
  }
  return { input: inp, counts, facts: hostFacts, steps, parsed, items, rollouts, report };
}

/** Uploads, one apply round trip, then (for a rolled restart) the role's health gate. Nothing in check mode. */
export async function applyHostPhase(prep: PreparedHostPhase): Promise<HostCounts> {
  const { input: inp, counts, steps, report } = prep;
  const { conn, emit, phase, profile } = inp;
  if (inp.check || steps.length === 0) return counts;

  // 6. controller-side preparation (artifact downloads into the cache) only for what changes, uploads, one apply round trip
  if (inp.prepare) await profile.timeAsync('prepare', () => inp.prepare!(steps.flatMap((s) => (s.item ? [s.item.op] : []))));
  for (const s of steps) {
    const it = s.item;
    if (it?.op.uploads) {
      const fact = it.op.fact ? prep.parsed.get(it.op.fact) : undefined;
      for (const u of it.op.uploads(fact)) await profile.timeAsync('upload', () => conn.putFile(u.local, u.remote, { mode: u.mode }));
    }
  }
  const res = await profile.timeAsync('apply', () => conn.runScript(applyScript(steps)));
  const { steps: outcomes, complete } = parseApplyOutput(res.stdout);
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  let failure: string | undefined;
  for (const s of steps) {
    const o = byId.get(s.id);
    if (s.item) {
      const p = s.item.plan as Extract<Plan, { status: 'change' }>;
      if (!o) {
        report(s.item, { status: 'failed', reason: failure ? 'not run: an earlier step failed' : 'not run: the apply script stopped early' });
        continue;
      }
      if (o.code !== 0) {
        failure = `${s.item.op.kind} ${s.item.op.name}: exit ${o.code}`;
        report(s.item, { status: 'failed', reason: `exit ${o.code}: ${lastLine(o.output)}`, output: o.output });
      } else if (o.skips.length) report(s.item, { status: 'skipped', reason: o.skips.join('; '), diff: p.diff });
      else report(s.item, { status: 'changed', reason: p.reason, diff: p.diff });
    } else {
      const name = s.handler ? handlerTitle(s.handler) : s.pending!.description;
      const status = !o ? 'failed' : o.code === 0 ? 'changed' : 'failed';
      const reason = !o ? 'not run: an earlier step failed' : o.code === 0 ? (s.handler ? 'notified by a changed file' : 'due after a change') : `exit ${o.code}: ${lastLine(o.output)}`;
      if (o && o.code !== 0) failure = `${name}: exit ${o.code}`;
      emit({ type: 'handler', phase, host: inp.host.name, name, status, reason });
      if (status === 'failed') counts.failed++;
    }
  }
  if (!complete && !failure) failure = `apply script ended early (exit ${res.code}): ${res.stderr.trim().slice(0, 300)}`;
  if (failure) throw new HostPhaseError(failure);

  // 7. health gate of rolled restarts: the next host restarts only once this one is back
  for (const r of prep.rollouts) {
    const h = r.policy.health;
    const timeoutSec = h.timeoutSec ?? 120;
    const t0 = performance.now();
    const out = await profile.timeAsync('health', () => conn.runScript(healthScript(h.command, timeoutSec, h.intervalSec ?? 2), { timeoutMs: (timeoutSec + 30) * 1000 }));
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (out.code === 0) {
      emit({ type: 'handler', phase, host: inp.host.name, name: `health ${r.role}`, status: 'ok', reason: `${h.description}: healthy ${secs} s after restarting ${r.services.join(', ')}` });
    } else {
      counts.failed++;
      const why = `${h.description}: not healthy within ${timeoutSec} s after restarting ${r.services.join(', ')}: ${lastLine(out.stdout + '\n' + out.stderr)}`;
      emit({ type: 'handler', phase, host: inp.host.name, name: `health ${r.role}`, status: 'failed', reason: why });
      throw new HealthGateError(`health check failed: ${why}`);
    }
  }
  return counts;
}

/** A rolled restart left its member unhealthy: the rollout stops at this host. */
export class HealthGateError extends HostPhaseError {}

/** Retry `command` every `interval` seconds until it exits 0 or `timeout` seconds have passed (exit 1, last output). */
export function healthScript(command: string, timeoutSec: number, intervalSec: number): string {
  return [
    'export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"',
    `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(timeoutSec))} ))`,
    'while :; do',
    `  if out=$( ( ${command}\n) </dev/null 2>&1 ); then exit 0; fi`,
    '  if [ "$(date +%s)" -ge "$deadline" ]; then printf \'%s\\n\' "$out"; exit 1; fi',
    `  sleep ${Math.max(0.2, intervalSec)}`,
    'done',
  ].join('\n') + '\n';
}

/** A rollout's service pattern (`kafka`, `kafka.service`, `spark-worker@*`) covers this restart? */
export function rolledBy(pattern: string, handler: string): boolean {
  if (pattern.endsWith('@*')) return unitName(handler).startsWith(pattern.slice(0, -1));
  return unitName(pattern) === unitName(handler);
}

/** Every fact in one round trip; path facts batched into one stat + one sha256sum. */
async function gatherFacts(conn: Connection, facts: Fact<unknown>[], profile: Profile): Promise<unknown[]> {
  if (!facts.length) return [];
  const batched = facts.filter(batchable);
  const useBatch = batched.length > 1;
  const own = useBatch ? facts.filter((f) => !batchable(f)) : facts;
  const script = useBatch ? [...own, { key: 'batch', command: batchCommand(batched), parse: () => null }] : own;
  const res = await profile.timeAsync('facts', () => conn.runScript(factsScript(script)));
  if (res.code !== 0) throw new HostPhaseError(`facts script failed (exit ${res.code}): ${res.stderr.trim().slice(0, 500)}`);
  const outs = parseFactsOutput(res.stdout, script.length);
  const stdoutOf = new Map<Fact<unknown>, { stdout: string; code: number }>(own.map((f, i) => [f, outs[i]]));
  if (useBatch) splitBatch(outs[own.length].stdout, batched).forEach((stdout, i) => stdoutOf.set(batched[i], { stdout, code: 0 }));
  return facts.map((f) => {
    const o = stdoutOf.get(f)!;
    return f.parse(o.stdout, o.code);
  });
}

/** `kafka` and `kafka.service` name the same unit */
const unitName = (n: string) => (/\.[a-z]+$/.test(n) ? n : `${n}.service`);

/**
 * A notify name is a service to restart (`haproxy`), or `reload:NAME` for a service that rereads its
 * configuration in place (`systemctl reload NAME`: HAProxy keeps its master process and connections).
 */
export const RELOAD = 'reload:';
const handlerService = (h: string) => (h.startsWith(RELOAD) ? h.slice(RELOAD.length) : h);
export const handlerTitle = (h: string) => (h.startsWith(RELOAD) ? `reload ${handlerService(h)}` : `restart ${h}`);
export const restartScript = (h: string) =>
  h.startsWith(RELOAD) ? `systemctl reload ${q(handlerService(h))}` : `systemctl restart ${q(h)}`;

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

/** `--diff`: the current content (under 256 KiB) of the files about to change, in one more round trip. */
async function fetchBefore(conn: Connection, items: Item[]): Promise<void> {
  const diffs: FileDiff[] = [];
  for (const it of items) {
    const p = it.plan;
    if (p?.status === 'change' && p.diff && !p.diff.masked && p.diff.before === undefined) diffs.push(p.diff);
  }
  if (!diffs.length) return;
  const facts: Fact<string | undefined>[] = diffs.map((d) => ({
    key: `content:${d.path}`,
    command: `if [ -f ${q(d.path)} ] && [ $(wc -c < ${q(d.path)}) -lt 262144 ]; then base64 < ${q(d.path)}; fi`,
    parse: (out) => (out.trim() ? Buffer.from(out.replace(/\s+/g, ''), 'base64').toString('utf8') : undefined),
  }));
  const res = await conn.runScript(factsScript(facts));
  const outs = parseFactsOutput(res.stdout, facts.length);
  diffs.forEach((d, i) => (d.before = facts[i].parse(outs[i].stdout, outs[i].code)));
}
