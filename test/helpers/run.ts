/**
 * Running plans against simulated hosts in integration tests: each run gets orch's own SSH connector
 * (one connection per host), collects the events, and every connection is closed after the test file. Every run is
 * checked for secrets in what orch printed (assertNoSecretPrinted); every converging run, for files holding a secret
 * that others could read (./secret-files.ts).
 */
import { afterAll } from 'vitest';
import { sshConnector } from '../../src/cli/context.js';
import type { RunPlan } from '../../src/playbook/plan.js';
import type { Operation } from '../../src/ops/types.js';
import type { RunEvent } from '../../src/report/events.js';
import { runPlan } from '../../src/runner/run.js';
import { makeMasker } from '../../src/playbook/secrets.js';
import { jsonReporter } from '../../src/report/json.js';
import { plainReporter } from '../../src/report/plain.js';
import { fingerprint } from '../../src/role/cluster.js';
import type { Connection } from '../../src/transport/types.js';
import { assertSecretFilesKept, secretFilesChecked } from './secret-files.js';

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

/**
 * Every run of every integration test: what orch would print of it (plain lines with diffs and ok operations, and
 * --json), masked as the command line masks it, holds none of the run's secrets (the inventory's secret variables
 * and the secret cluster values made or read during the run). A leak fails the test that made the run.
 */
export function assertNoSecretPrinted(plan: Pick<RunPlan, 'secretValues'>, events: RunEvent[]): void {
  const mask = makeMasker(plan.secretValues);
  const printed: string[] = [];
  const plain = plainReporter({ write: (x) => printed.push(x), mask, verbose: true, diff: true });
  const json = jsonReporter((x) => printed.push(x), mask);
  for (const e of events) {
    plain(e);
    json(e);
  }
  const text = printed.join('');
  const leaked = [...plan.secretValues].filter((s) => s.length >= 3 && text.includes(s));
  if (leaked.length) throw new Error(`a secret reached orch's output: ${leaked.map(fingerprint).join(', ')}`);
  secretsChecked.runs++;
  secretsChecked.values += plan.secretValues.size;
}

/** how many runs (and secret values) this worker's tests checked */
export const secretsChecked = { runs: 0, values: 0 };

export function useRuns() {
  const pools: Array<{ closeAll(): Promise<void> }> = [];
  const start = { ...secretsChecked };
  const startFiles = { runs: secretFilesChecked.runs, files: secretFilesChecked.files, distinct: new Set(secretFilesChecked.distinct) };
  afterAll(async () => {
    for (const p of pools) await p.closeAll();
    const runs = secretsChecked.runs - start.runs;
    if (runs) console.log(`[secrets] ${runs} run(s) of this file checked: none of their ${secretsChecked.values - start.values} secret value(s) in what orch printed`);
    const fileRuns = secretFilesChecked.runs - startFiles.runs;
    if (fileRuns) {
      const distinct = [...secretFilesChecked.distinct].filter((k) => !startFiles.distinct.has(k)).length;
      console.log(
        `[secret files] ${fileRuns} converging run(s) of this file with secrets checked: ${secretFilesChecked.files - startFiles.files} file(s) orch keeps held a secret (${distinct} distinct host:path), each 0600/0640 or stricter, owned by root or its service`,
      );
    }
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
    assertNoSecretPrinted(plan, events);
    // a converging run: the files it keeps that hold a secret are 0600/0640, owned by root or their service
    if (code === 0 && !o.check) await assertSecretFilesKept(plan.secretValues, events, connect);
    return { code, events, connect };
  }
  return { run, connector };
}
