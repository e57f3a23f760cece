/**
 * Runs a plan: phases in order; within a phase the hosts in parallel (p-queue, `forks` at once), in
 * rolling batches when the phase has `serial`. A host that fails or cannot be reached drops out of the
 * rest of the run; the others go on unless `failFast` or the phase's `max_fail_percentage` is exceeded.
 */
import PQueue from 'p-queue';
import { EXIT } from '../core/errors.js';
import type { RunPlan, PlannedPhase } from '../playbook/plan.js';
import type { HostFacts } from '../role/define.js';
import type { Operation } from '../ops/types.js';
import { prepareArtifacts } from '../ops/artifact.js';
import type { EventSink, HostCounts } from '../report/events.js';
import { UnreachableError, type Connection } from '../transport/types.js';
import { applyHostPhase, defaultGuess, prepareHostPhase, type PreparedHostPhase } from './host-phase.js';
import { resolvePhaseValues } from './cluster-values.js';
import { Profile } from './profile.js';
import { capacityFromFacts, peerHosts } from '../playbook/checks.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  /** hosts at once (default: all, up to 256) */
  forks?: number;
  failFast?: boolean;
  emit: EventSink;
  /** opens (or reuses) the connection to a host */
  connect(host: string): Promise<Connection>;
  /** makes the artifacts of the ops that will change ready on the controller (default: prepareArtifacts: download once, verify) */
  prepare?: (ops: Operation[]) => Promise<void>;
  profile?: Profile;
  /** the handler for a notified name (default: `systemctl restart NAME`) */
  handlerScript?: (name: string) => string;
  /** where orch keeps its own state on the hosts (copies of cluster values); default `/var/lib/orch` */
  stateDir?: string;
}

export const DEFAULT_STATE_DIR = '/var/lib/orch';

export async function runPlan(plan: RunPlan, o: RunOptions): Promise<number> {
  const t0 = performance.now();
  const profile = o.profile ?? new Profile();
  const totals = new Map<string, HostCounts & { elapsedMs: number }>();
  const dead = new Map<string, { unreachable: boolean }>();
  const facts = new Map<string, HostFacts>();
  /** check mode: the cluster-value copies earlier phases would have written (name -> host -> value) */
  const checkCopies = new Map<string, Map<string, string>>();
  const peers = peerHosts(plan.inventory, plan.hostVars, plan.hostRoles);
  const allHosts = [...new Set(plan.phases.flatMap((p) => p.hosts.map((h) => h.name)))];
  for (const h of allHosts) totals.set(h, { ok: 0, changed: 0, skipped: 0, failed: 0, unreachable: 0, elapsedMs: 0 });
  o.emit({ type: 'run-start', playbook: plan.playbook.file, inventory: plan.inventory.source, hosts: allHosts, check: o.check, phases: plan.phases.map((p) => p.phase.name) });
  // all hosts at once by default (up to 256): a 100-host fleet connects and runs in one wave, as the floors do
  const forks = Math.max(1, Math.min(o.forks ?? 256, 1000));
  // host facts are gathered in the first phase's facts script; operations are rendered with a guess until then
  const guessFor = (host: string) => {
    const known = facts.values().next();
    return known.done ? defaultGuess(host) : { ...known.value, hostname: host };
  };

  let aborted: string | undefined;
  let resumeFrom: string | undefined;
  for (const pp of plan.phases) {
    const live = pp.hosts.filter((h) => !dead.has(h.name));
    const tp = performance.now();
    o.emit({ type: 'phase-start', phase: pp.phase.name, index: pp.phase.index, hosts: live.map((h) => h.name) });
    let failedHere = 0;
    let stop = false;
    const fail = (host: string, e: unknown) => {
      const unreachable = e instanceof UnreachableError;
      const tot = totals.get(host)!;
      if (unreachable) tot.unreachable++;
      else tot.failed = Math.max(tot.failed, 1);
      dead.set(host, { unreachable });
      failedHere++;
      o.emit({ type: 'host-failed', phase: pp.phase.name, host, error: (e as Error).message, unreachable });
      if (o.failFast) stop = true;
    };
    const timed = async <T>(host: string, fn: () => Promise<T>): Promise<T | undefined> => {
      if (stop) return undefined;
      const th = performance.now();
      try {
        return await fn();
      } catch (e) {
        fail(host, e);
        return undefined;
      } finally {
        const tot = totals.get(host);
        if (tot) tot.elapsedMs += performance.now() - th;
      }
    };

    // cluster values of the phase's roles: read on their groups' hosts, resolved, before any host of the phase plans
    let values: Awaited<ReturnType<typeof resolvePhaseValues>> | undefined;
    if (live.some((h) => h.roles.some((r) => r.def.clusterValues))) {
      values = await resolvePhaseValues({
        plan,
        phase: { ...pp, hosts: live },
        peers,
        connect: o.connect,
        knownFacts: (h) => facts.get(h),
        stateDir: o.stateDir ?? DEFAULT_STATE_DIR,
        check: o.check,
        profile,
        assumed: checkCopies,
      });
      for (const [h, f] of values.facts) facts.set(h, f);
      // check mode: the copies this phase would write count as written for the later phases
      if (o.check) {
        for (const [h, list] of values.engineOps) {
          for (const { op } of list) {
            const value = op.kind === 'cluster-value' ? values.values.get(op.name) : undefined;
            if (value === undefined) continue;
            const hosts = checkCopies.get(op.name) ?? new Map<string, string>();
            hosts.set(h, value);
            checkCopies.set(op.name, hosts);
          }
        }
      }
      for (const [h, why] of values.stopped) if (live.some((x) => x.name === h)) fail(h, new Error(why));
      if (values.problems.length) {
        for (const h of live) fail(h.name, new Error(`cluster values: ${values.problems.join('; ')}`));
        aborted = `cluster values of phase ${pp.phase.name}: ${values.problems.join('; ')}`;
      }
    }

    for (const batch of aborted ? [] : batches(pp, live.filter((h) => !dead.has(h.name)))) {
      const queue = new PQueue({ concurrency: forks });
      const started = new Map<string, number>();
      // 1. every host of the batch: connect, render, facts, plan (in parallel)
      const prepared = await Promise.all(
        batch.map((h) =>
          queue.add(() =>
            timed(h.name, async () => {
              started.set(h.name, performance.now());
              o.emit({ type: 'host-start', phase: pp.phase.name, host: h.name });
              const conn = await profile.timeAsync('connect', () => o.connect(h.name));
              const prep = await prepareHostPhase({
                phase: pp.phase.name,
                host: h,
                conn,
                facts: facts.get(h.name),
                guess: guessFor(h.name),
                peers: { self: peers.get(h.name)!, all: [...peers.values()] },
                allRoles: plan.hostRoles?.get(h.name),
                cluster: values?.values,
                engineOps: values?.engineOps.get(h.name),
                check: o.check,
                diff: o.diff,
                emit: o.emit,
                profile,
                prepare: o.prepare ?? prepareArtifacts,
                handlerScript: o.handlerScript,
              });
              facts.set(h.name, prep.facts);
              return prep;
            }),
          ),
        ),
      );
      const apply = (prep: PreparedHostPhase) =>
        timed(prep.input.host.name, async () => {
          const c = await applyHostPhase(prep);
          const tot = totals.get(prep.input.host.name)!;
          tot.ok += c.ok;
          tot.changed += c.changed;
          tot.skipped += c.skipped;
          tot.failed += c.failed;
          o.emit({ type: 'host-end', phase: pp.phase.name, host: prep.input.host.name, counts: c, elapsedMs: performance.now() - (started.get(prep.input.host.name) ?? 0) });
          return true;
        });
      const ready = prepared.filter((p): p is PreparedHostPhase => !!p);
      // 2. hosts without a rolled restart apply in parallel; those with one, one at a time behind the health check
      const rolling = o.check ? [] : ready.filter((p) => p.rollouts.length);
      await Promise.all([
        Promise.all(ready.filter((p) => !rolling.includes(p)).map((p) => queue.add(() => apply(p)))),
        rollout(rolling, apply, (host, why) => fail(host, new Error(why)), profile),
      ]);
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
    warnings: capacityFromFacts(plan.declared, facts),
  });
  return exitCode;
}

/**
 * Rolled restarts: the hosts apply (config and restart) one at a time, or the policy's `serial` at once, each
 * waiting for the role's health check; the leader (where the role can tell) goes last. A host whose check fails
 * stops the rollout: the hosts after it are not touched (their changes are not applied) and fail with the reason,
 * so the recap names the phase to resume from.
 */
async function rollout(
  hosts: PreparedHostPhase[],
  apply: (p: PreparedHostPhase) => Promise<boolean | undefined>,
  skip: (host: string, why: string) => void,
  profile: Profile,
): Promise<void> {
  if (!hosts.length) return;
  // who leads: asked only now, of the hosts about to restart (a leader query can be slow: a JVM CLI)
  const leads = await Promise.all(
    hosts.map(async (p) => {
      const cmds = p.rollouts.map((r) => r.policy.leader).filter((c): c is string => !!c);
      if (!cmds.length) return false;
      try {
        const res = await profile.timeAsync('leader', () => p.input.conn.runScript(cmds.map((c) => `( ${c}\n) </dev/null >/dev/null 2>&1 && exit 0`).join('\n') + '\nexit 1\n'));
        return res.code === 0;
      } catch {
        return false;
      }
    }),
  );
  const order = hosts.map((p, i) => ({ p, leader: leads[i] })).sort((a, b) => Number(a.leader) - Number(b.leader)).map((x) => x.p);
  const serial = Math.max(1, Math.min(...hosts.flatMap((p) => p.rollouts.map((r) => r.policy.serial ?? 1))));
  for (let i = 0; i < order.length; i += serial) {
    const chunk = order.slice(i, i + serial);
    const ok = await Promise.all(chunk.map(apply));
    const failed = chunk.filter((_, j) => !ok[j]).map((p) => p.input.host.name);
    if (failed.length) {
      const roles = [...new Set(order.flatMap((p) => p.rollouts.map((r) => r.role)))].join(', ');
      for (const p of order.slice(i + serial)) {
        skip(p.input.host.name, `not applied: the rolling restart of ${roles} stopped at ${failed.join(', ')} (its health check failed); nothing was changed on this host`);
      }
      return;
    }
  }
}

function batches(pp: PlannedPhase, live: PlannedPhase['hosts']): PlannedPhase['hosts'][] {
  const s = pp.phase.serial;
  if (s === undefined) return [live];
  const size = typeof s === 'string' ? Math.max(1, Math.floor((live.length * parseInt(s, 10)) / 100)) : s;
  const out = [];
  for (let i = 0; i < live.length; i += size) out.push(live.slice(i, i + size));
  return out;
}
