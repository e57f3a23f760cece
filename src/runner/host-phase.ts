/**
 * One host, one phase: operations of its roles -> one facts round trip -> plans on the controller ->
 * (unless --check) one apply round trip holding every change, the pending actions they make due and
 * the restart handlers they notify.
 */
import type { HostFacts, PeerHost, RoleContext } from '../role/define.js';
import type { Fact, FileDiff, Operation, OpResult, PendingAction, Plan } from '../ops/types.js';
import type { Connection } from '../transport/types.js';
import type { PlannedHost, PlannedRole } from '../playbook/plan.js';
import type { EventSink, HostCounts } from '../report/events.js';
import { applyScript, factsScript, parseApplyOutput, parseFactsOutput, type ApplyStep } from './scripts.js';
import { batchable, batchCommand, splitBatch } from './fact-batch.js';
import { q } from '../ops/quote.js';
import type { Profile } from './profile.js';

export interface HostPhaseInput {
  phase: string;
  host: PlannedHost;
  conn: Connection;
  facts: HostFacts;
  peers: { self: PeerHost; all: PeerHost[] };
  /** every role this host runs in the playbook (for `exported()` of roles from earlier phases) */
  allRoles?: PlannedRole[];
  check: boolean;
  diff: boolean;
  emit: EventSink;
  profile: Profile;
  /** controller-side work for the operations about to change (artifact downloads into the controller cache) */
  prepare?: (ops: Operation[]) => Promise<void>;
  /** the handler for a notified name (default: `systemctl restart NAME`) */
  handlerScript?: (name: string) => string;
}

interface Item {
  role: string;
  op: Operation<any>;
  plan?: Plan;
}

export class HostPhaseError extends Error {}

export async function runHostPhase(inp: HostPhaseInput): Promise<HostCounts> {
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

  // 1. operations of every role, in order
  const items: Item[] = [];
  const exportsByRole = new Map<string, Record<string, unknown>>();
  const contextOf = (r: PlannedRole): RoleContext<any> => ({
    vars: r.vars,
    host: { ...inp.peers.self, facts: inp.facts },
    group: (g) => inp.peers.all.filter((p) => p.groups.includes(g)),
    allHosts: () => inp.peers.all,
    exported,
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
  profile.time('render', () => {
    for (const r of inp.host.roles) for (const op of r.def.operations(contextOf(r))) items.push({ role: r.name, op });
  });

  // 2. facts: one round trip, deduplicated by key; path facts batched into one stat + one sha256sum
  const factIndex = new Map<string, number>();
  const facts: Fact<unknown>[] = [];
  for (const it of items) {
    const f = it.op.fact;
    if (f && !factIndex.has(f.key)) {
      factIndex.set(f.key, facts.length);
      facts.push(f);
    }
  }
  let parsed: unknown[] = [];
  if (facts.length) {
    const batched = facts.filter(batchable);
    const useBatch = batched.length > 1;
    const own = useBatch ? facts.filter((f) => !batchable(f)) : facts;
    const script = useBatch ? [...own, { key: 'batch', command: batchCommand(batched), parse: () => null }] : own;
    const res = await profile.timeAsync('facts', () => conn.runScript(factsScript(script)));
    if (res.code !== 0) throw new HostPhaseError(`facts script failed (exit ${res.code}): ${res.stderr.trim().slice(0, 500)}`);
    const outs = parseFactsOutput(res.stdout, script.length);
    const stdoutOf = new Map<Fact<unknown>, { stdout: string; code: number }>(own.map((f, i) => [f, outs[i]]));
    if (useBatch) splitBatch(outs[own.length].stdout, batched).forEach((stdout, i) => stdoutOf.set(batched[i], { stdout, code: 0 }));
    parsed = facts.map((f) => {
      const o = stdoutOf.get(f)!;
      return f.parse(o.stdout, o.code);
    });
  }

  // 3. plans on the controller
  profile.time('diff', () => {
    for (const it of items) it.plan = it.op.plan(it.op.fact ? parsed[factIndex.get(it.op.fact.key)!] : undefined);
  });

  // 3b. --diff: fetch the current content of files about to change (one more round trip)
  if (inp.diff) await fetchBefore(conn, items);

  // 4. steps of the apply script: changes, pending actions right before the ops that flush them, handlers
  const steps: Array<ApplyStep & { item?: Item; handler?: string; pending?: PendingAction }> = [];
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
  for (const it of items) {
    const p = it.plan!;
    if (p.status !== 'change') continue;
    if (it.op.flushes) flushPending(it.op.flushes);
    steps.push({ id: steps.length, script: p.script, item: it });
    for (const a of p.pending ?? []) pending.set(a.key, a);
    for (const s of p.started ?? []) started.add(unitName(s));
    for (const n of it.op.notify ?? []) if (!notified.includes(n)) notified.push(n);
  }
  flushPending();
  for (const svc of notified) {
    if (started.has(unitName(svc))) continue; // started in this phase: it already runs the new config
    steps.push({ id: steps.length, script: (inp.handlerScript ?? restartScript)(svc), handler: svc });
  }

  // 5. report ok/skip now; changes are reported after applying (or as would-change in check mode)
  for (const it of items) {
    const p = it.plan!;
    if (p.status === 'ok') report(it, { status: 'ok', reason: p.reason });
    else if (p.status === 'skip') report(it, { status: 'skipped', reason: p.reason });
    else if (inp.check) report(it, { status: 'changed', reason: `would change: ${p.reason}`, diff: p.diff });
  }
  if (inp.check) {
    for (const s of steps) {
      if (s.handler) emit({ type: 'handler', phase, host: inp.host.name, name: `restart ${s.handler}`, status: 'changed', reason: 'would restart (notified)' });
    }
    return counts;
  }
  if (steps.length === 0) return counts;

  // 6. controller-side preparation (artifact downloads into the cache) only for what changes, uploads, one apply round trip
  if (inp.prepare) await profile.timeAsync('prepare', () => inp.prepare!(steps.flatMap((s) => (s.item ? [s.item.op] : []))));
  for (const s of steps) {
    const it = s.item;
    if (it?.op.uploads) {
      const fact = it.op.fact ? parsed[factIndex.get(it.op.fact.key)!] : undefined;
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
      const name = s.handler ? `restart ${s.handler}` : s.pending!.description;
      const status = !o ? 'failed' : o.code === 0 ? 'changed' : 'failed';
      const reason = !o ? 'not run: an earlier step failed' : o.code === 0 ? (s.handler ? 'notified by a changed file' : 'due after a change') : `exit ${o.code}: ${lastLine(o.output)}`;
      if (o && o.code !== 0) failure = `${name}: exit ${o.code}`;
      emit({ type: 'handler', phase, host: inp.host.name, name, status, reason });
      if (status === 'failed') counts.failed++;
    }
  }
  if (!complete && !failure) failure = `apply script ended early (exit ${res.code}): ${res.stderr.trim().slice(0, 300)}`;
  if (failure) throw new HostPhaseError(failure);
  return counts;
}

/** `kafka` and `kafka.service` name the same unit */
const unitName = (n: string) => (/\.[a-z]+$/.test(n) ? n : `${n}.service`);

const restartScript = (svc: string) => `systemctl restart ${q(svc)}`;

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
