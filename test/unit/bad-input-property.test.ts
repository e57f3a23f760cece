/**
 * Issue 16, bad input: property-based cases of broken inventories (YAML and INI), group_vars/host_vars, playbooks
 * and `-e` values (test/helpers/bad-input/generators.ts), seeded, through orch's real loaders and planner in a
 * worker thread (test/helpers/bad-input/runner.ts) so that each case's time is bounded. Every case either plans,
 * or is refused with an InputError (exit 4) each of whose problems names its file, its line (when the file has
 * lines) and the key; nothing else is thrown (a crash: exit 1) and no case hangs.
 * Replay: ORCH_FUZZ_SEED=<seed> (printed), ORCH_FUZZ_RUNS=<factor> to run more cases.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { InputProblem } from '../../src/core/errors.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { projectArb, renderCase, ROLE_GROUPS, type Focus } from '../helpers/bad-input/generators.js';
import { CaseRunner, type BoundedResult } from '../helpers/bad-input/runner.js';

const SEED = Number(process.env.ORCH_FUZZ_SEED ?? 1616);
const FACTOR = Number(process.env.ORCH_FUZZ_RUNS ?? 1);
/** generous: a case takes milliseconds; this only tells a hang from a slow machine */
const CASE_TIMEOUT_MS = 15_000;

/**
 * Problems about a whole file or `-e` argument, where there is no key to name: its syntax (the text does not parse
 * into keys), it cannot be read or is too big, it is empty, or it is not the mapping (or list) it must be.
 */
const NO_KEY = [/^YAML syntax/, /^YAML error/, /^cannot read/, /^file too big/, /^the inventory is empty/, /^empty extra vars/, /^cannot parse '/, /^a playbook is a YAML list/, /^expected a mapping of (group names|variables)/];

let runner: CaseRunner;
let root: string;
let roleVars: Record<string, unknown>;
const tally = { cases: 0, planned: 0, refused: 0, problems: 0, byStage: {} as Record<string, number> };

beforeAll(async () => {
  runner = new CaseRunner({ timeoutMs: CASE_TIMEOUT_MS });
  root = mkdtempSync(join(tmpdir(), 'orch-bad-input-'));
  const reg = new RoleRegistry();
  roleVars = {};
  for (const r of ['common', 'java', ...Object.keys(ROLE_GROUPS)]) for (const [k, spec] of Object.entries((await reg.load(r)).vars)) roleVars[k] = spec.default;
  console.log(`bad-input property: seed ${SEED} (replay with ORCH_FUZZ_SEED=${SEED})`);
});

afterAll(async () => {
  await runner?.close();
  if (root) rmSync(root, { recursive: true, force: true });
  console.log(`bad-input property: ${tally.cases} cases: ${tally.planned} planned, ${tally.refused} refused with exit 4 (${tally.problems} problems; by stage ${JSON.stringify(tally.byStage)}), 0 crashes, 0 hangs`);
});

/** Why a problem does not name file, line and key, or undefined when it does. */
function unnamed(p: InputProblem): string | undefined {
  if (!p.file) return 'no file';
  const path = isAbsolute(p.file) ? p.file : resolve(p.file);
  if (existsSync(path) && statSync(path).isFile()) {
    const lines = readFileSync(path, 'utf8').split('\n');
    const meaningful = lines.some((l) => l.trim() && !l.trim().startsWith('#'));
    if (meaningful && !(Number.isInteger(p.line) && p.line! >= 1 && p.line! <= lines.length + 1)) return `no line in ${p.file} (${lines.length} lines)`;
  }
  if (!p.key && !NO_KEY.some((re) => re.test(p.message))) return 'no key';
  return undefined;
}

function verdict(r: BoundedResult): string | undefined {
  tally.cases++;
  if (r.outcome === 'planned') {
    tally.planned++;
    return undefined;
  }
  if (r.outcome === 'refused') {
    tally.refused++;
    tally.problems += r.problems.length;
    tally.byStage[r.stage] = (tally.byStage[r.stage] ?? 0) + 1;
    if (r.exitCode !== 4) return `refused with exit code ${r.exitCode}`;
    if (!r.problems.length) return 'an InputError without problems';
    const bad = r.problems.map((p) => [p, unnamed(p)] as const).filter(([, why]) => why);
    if (bad.length) return `problems without file:line: key:\n${bad.map(([p, why]) => `  ${why}: ${JSON.stringify(p)}`).join('\n')}`;
    return undefined;
  }
  if (r.outcome === 'crashed') return `crashed (exit 1) at stage ${r.stage}: ${r.error}`;
  if (r.outcome === 'hung') return `hung: no answer after ${r.afterMs} ms`;
  return `the worker died: ${r.error}`;
}

async function check(focus: Focus, numRuns: number) {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(projectArb(roleVars, focus), async (model) => {
      const c = renderCase(model);
      const why = verdict(await runner.run(join(root, `case-${n++}`), c));
      if (why) throw new Error(`${why}\nfiles:\n${Object.entries(c.files).map(([f, t]) => `--- ${f}\n${t}`).join('\n')}\n-e ${JSON.stringify(c.extraVars)} --limit ${c.limit}`);
    }),
    { seed: SEED, numRuns: Math.round(numRuns * FACTOR), endOnFailure: false },
  );
}

describe('bad input, property-based (seeded): each case plans or exits 4 naming file:line: key; none crashes or hangs', () => {
  it('inventories in YAML (hosts.yml)', () => check({ format: 'yaml', inventory: 1, vars: 0.2, playbook: 0, extra: 0, text: 0.25 }, 150), 120_000);
  it('inventories in INI (hosts.ini)', () => check({ format: 'ini', inventory: 1, vars: 0.2, playbook: 0, extra: 0, text: 0.25 }, 150), 120_000);
  it('group_vars/ and host_vars/', () => check({ inventory: 0, vars: 1, playbook: 0, extra: 0, text: 0.3 }, 100), 120_000);
  it('playbooks', () => check({ inventory: 0, vars: 0, playbook: 1, extra: 0, text: 0.3 }, 100), 120_000);
  it('-e values', () => check({ inventory: 0, vars: 0, playbook: 0, extra: 1, text: 0.3 }, 100), 120_000);
  it('everything at once', () => check({ inventory: 0.5, vars: 0.5, playbook: 0.5, extra: 0.5, text: 0.5 }, 100), 120_000);
});
