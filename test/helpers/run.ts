/**
 * Running plans against simulated hosts in integration tests: each run gets orch's own SSH connector
 * (one connection per host), collects the events, and every connection is closed after the test file.
 */
import { afterAll } from 'vitest';
import { sshConnector } from '../../src/cli/context.js';
import type { RunPlan } from '../../src/playbook/plan.js';
import type { Operation } from '../../src/ops/types.js';
import type { RunEvent } from '../../src/report/events.js';
import { runPlan } from '../../src/runner/run.js';
import type { Connection } from '../../src/transport/types.js';

export interface RunOutcome {
  code: number;
  events: RunEvent[];
  connect(host: string): Promise<Connection>;
}

export interface RunOptions {
  check?: boolean;
  diff?: boolean;
  prepare?: (ops: Operation[]) => Promise<void>;
  onEvent?: (e: RunEvent) => void;
}

export function useRuns() {
  const pools: Array<{ closeAll(): Promise<void> }> = [];
  afterAll(async () => {
    for (const p of pools) await p.closeAll();
  });
  /** connections to the hosts of a plan (known_hosts of the simulation, no new keys accepted) */
  const connector = (plan: Pick<RunPlan, 'connections'>) => {
    const c = sshConnector(plan, false);
    pools.push(c.pool);
    return c.connect;
  };
  async function run(plan: RunPlan, o: RunOptions = {}): Promise<RunOutcome> {
    const connect = connector(plan);
    const events: RunEvent[] = [];
    const emit = (e: RunEvent) => {
      events.push(e);
      o.onEvent?.(e);
    };
    const code = await runPlan(plan, { check: !!o.check, diff: !!o.diff, connect, emit, prepare: o.prepare });
    return { code, events, connect };
  }
  return { run, connector };
}
