/** `orch run PLAYBOOK --inventory X`: converge the hosts. */
import { loadPlan, sshConnector, type PlanArgs } from '../context.js';
import { runPlan } from '../../runner/run.js';
import { makeMasker } from '../../playbook/secrets.js';
import { plainReporter } from '../../report/plain.js';
import { jsonReporter } from '../../report/json.js';
import type { RunEvent } from '../../report/events.js';
import { prepareArtifacts } from '../../ops/index.js';
import { recapTable } from '../../report/recap.js';

export interface RunArgs extends PlanArgs {
  check: boolean;
  diff: boolean;
  forks?: number;
  failFast: boolean;
  json: boolean;
  plain: boolean;
  verbose: boolean;
  acceptNewHosts: boolean;
  profile: boolean;
}

export async function runCommand(a: RunArgs): Promise<number> {
  const plan = await loadPlan(a);
  const mask = makeMasker(plan.secretValues);
  const out = (s: string) => process.stdout.write(s);
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
  let emit: (e: RunEvent) => void;
  let finish = async () => {};
  if (a.json) emit = jsonReporter(out, mask);
  else if (!a.plain && process.stdout.isTTY && !process.env.CI) {
    const { treeReporter } = await import('../../report/tree.js'); // listr2 only on a terminal
    const t = treeReporter(mask, out, { profile: a.profile });
    emit = t.sink;
    finish = () => t.done();
  } else {
    const p = plainReporter({ write: out, mask, verbose: a.verbose, diff: a.diff });
    emit = (e) => {
      if (e.type === 'recap' && a.profile) out(mask(recapTable(e, { profile: true })) + '\n');
      else p(e);
    };
  }
  // the recap lists the services the inventory places that no role deploys yet (never dropped silently)
  const report = emit;
  emit = (e) => report(e.type === 'recap' && plan.notAutomated?.length ? { ...e, notAutomated: plan.notAutomated } : e);
  const { pool, connect } = sshConnector(plan, a.acceptNewHosts);
  try {
    const code = await runPlan(plan, { check: a.check, diff: a.diff, forks: a.forks, failFast: a.failFast, emit, connect, prepare: prepareArtifacts });
    await finish();
    return code;
  } finally {
    await pool.closeAll();
  }
}
