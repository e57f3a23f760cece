/**
 * Runs a plan: phases in order; within a phase the hosts in parallel (p-queue, `forks` at once), in
 * rolling batches when the phase has `serial`. A host that fails or cannot be reached drops out of the
 * rest of the run; the others go on unless `failFast` or the phase's `max_fail_percentage` is exceeded.
 */
import PQueue from 'p-queue';
import { EXIT } from '../core/errors.js';
import type { RunPlan, PlannedPhase } from '../playbook/plan.js';
import type { HostFacts, PeerHost } from '../role/define.js';
import type { Operation } from '../ops/types.js';
import type { EventSink, HostCounts } from '../report/events.js';
import { UnreachableError, type Connection } from '../transport/types.js';
import { gatherHostFacts } from './host-facts.js';
import { runHostPhase } from './host-phase.js';
import { Profile } from './profile.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  /** hosts at once (default: all, up to 50) */
  forks?: number;
  failFast?: boolean;
  emit: EventSink;
  /** opens (or reuses) the connection to a host */
  connect(host: string): Promise<Connection>;
  prepare?: (ops: Operation[]) => Promise<void>;
  profile?: Profile;
  /** the handler for a notified name (default: `systemctl restart NAME`) */
  handlerScript?: (name: string) => string;
}

export async function runPlan(plan: RunPlan, o: RunOptions): Promise<number> {
  const t0 = performance.now();
  const profile = o.profile ?? new Profile();
  const totals = new Map<string, HostCounts & { elapsedMs: number }>();
  const dead = new Map<string, { unreachable: boolean }>();
  const facts = new Map<string, Promise<HostFacts>>();
  const peers = peerList(plan);
  const allHosts = [...new Set(plan.phases.flatMap((p) => p.hosts.map((h) => h.name)))];
  for (const h of allHosts) totals.set(h, { ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0, elapsedMs: 0 });
  o.emit({ type: 'run-start', playbook: plan.playbook.file, inventory: plan.inventory.source, hosts: allHosts, check: o.check, phases: plan.phases.map((p) => p.phase.name) });

  const factsOf = (host: string, conn: Connection) => {
    let f = facts.get(host);
    if (!f) facts.set(host, (f = profile.timeAsync('host-facts', () => gatherHostFacts(conn))));
    return f;
  };

  let aborted: string | undefined;
  let resumeFrom: string | undefined;
  for (const pp of plan.phases) {
    const live = pp.hosts.filter((h) => !dead.has(h.name));
    const tp = performance.now();
    o.emit({ type: 'phase-start', phase: pp.phase.name, index: pp.phase.index, hosts: live.map((h) => h.name) });
    let failedHere = 0;
    for (const batch of batches(pp, live)) {
      const queue = new PQueue({ concurrency: Math.max(1, Math.min(o.forks ?? 50, 50)) });
      let stop = false;
      await Promise.all(
        batch.map((h) =>
          queue.add(async () => {
            if (stop) return;
            const th = performance.now();
            o.emit({ type: 'host-start', phase: pp.phase.name, host: h.name });
            const tot = totals.get(h.name)!;
            try {
              const conn = await profile.timeAsync('connect', () => o.connect(h.name));
              const hf = await factsOf(h.name, conn);
              const c = await runHostPhase({
                phase: pp.phase.name,
                host: h,
                conn,
                facts: hf,
                peers: { self: peers.get(h.name)!, all: [...peers.values()] },
                allRoles: plan.hostRoles?.get(h.name),
                check: o.check,
                diff: o.diff,
                emit: o.emit,
                profile,
                prepare: o.prepare,
                handlerScript: o.handlerScript,
              });
              tot.ok += c.ok;
              tot.changed += c.changed;
              tot.skipped += c.skipped;
              tot.failed += c.failed;
              o.emit({ type: 'host-end', phase: pp.phase.name, host: h.name, counts: c, elapsedMs: performance.now() - th });
            } catch (e) {
              const unreachable = e instanceof UnreachableError;
              if (unreachable) tot.unreachable++;
              else tot.failed = Math.max(tot.failed, 1);
              dead.set(h.name, { unreachable });
              failedHere++;
              o.emit({ type: 'host-failed', phase: pp.phase.name, host: h.name, error: (e as Error).message, unreachable });
              if (o.failFast) stop = true;
            } finally {
              tot.elapsedMs += performance.now() - th;
            }
          }),
        ),
      );
      const limit = pp.phase.maxFailPercentage;
      if (o.failFast && failedHere > 0) aborted = `--fail-fast: a host failed in phase ${pp.phase.name}`;
      else if (limit !== undefined && (failedHere / Math.max(1, live.length)) * 100 > limit)
        aborted = `${failedHere} of ${live.length} hosts failed in phase ${pp.phase.name}, more than its max_fail_percentage ${limit}%`;
      if (aborted) break;
    }
    o.emit({ type: 'phase-end', phase: pp.phase.name, index: pp.phase.index, elapsedMs: performance.now() - tp });
    if (failedHere > 0 && !resumeFrom) resumeFrom = pp.phase.name;
    if (aborted) {
      o.emit({ type: 'run-aborted', phase: pp.phase.name, reason: aborted });
      break;
    }
  }
  const anyUnreachable = [...dead.values()].some((d) => d.unreachable);
  const exitCode = anyUnreachable ? EXIT.hostUnreachable : dead.size > 0 ? EXIT.hostFailed : EXIT.ok;
  o.emit({
    type: 'recap',
    hosts: Object.fromEntries(totals),
    elapsedMs: performance.now() - t0,
    exitCode,
    resumeFrom: exitCode === 0 ? undefined : resumeFrom,
    profile: profile.ms,
  });
  return exitCode;
}

function batches(pp: PlannedPhase, live: PlannedPhase['hosts']): PlannedPhase['hosts'][] {
  const s = pp.phase.serial;
  if (s === undefined) return [live];
  const size = typeof s === 'string' ? Math.max(1, Math.floor((live.length * parseInt(s, 10)) / 100)) : s;
  const out = [];
  for (let i = 0; i < live.length; i += size) out.push(live.slice(i, i + size));
  return out;
}

function peerList(plan: RunPlan): Map<string, PeerHost> {
  const out = new Map<string, PeerHost>();
  for (const [name, h] of plan.inventory.hosts) {
    const vars = plan.hostVars.get(name) ?? {};
    const address = String(vars.ansible_host ?? vars.host ?? name);
    out.set(name, { name, address, groups: h.groups, vars });
  }
  return out;
}
