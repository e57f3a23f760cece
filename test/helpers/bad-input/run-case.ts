/**
 * One bad-input case through orch's real loaders, in the order `orch run` loads them (src/cli/context.ts
 * loadPlan): the inventory (src/inventory/load.ts), the playbook (src/playbook/load.ts), the `-e` values
 * (src/inventory/extra-vars.ts), then buildPlan (src/playbook/plan.ts) with the RoleRegistry of the project's
 * roles/. Its files are written under `dir` first. What comes back is plain data (it crosses a worker boundary).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError, type InputProblem } from '../../../src/core/errors.js';
import { parseExtraVars } from '../../../src/inventory/extra-vars.js';
import { loadInventory } from '../../../src/inventory/load.js';
import { loadPlaybook } from '../../../src/playbook/load.js';
import { buildPlan } from '../../../src/playbook/plan.js';
import { RoleRegistry } from '../../../src/role/registry.js';

export interface BadCase {
  /** files of the case, by path relative to its directory (`inv/hosts.yml`, `inv/group_vars/all.yml`, `pb.yml`) */
  files: Record<string, string>;
  /** the inventory, relative to the case's directory: `inv` (a directory) or a file */
  inventory: string;
  playbook: string;
  /** `-e` arguments; `@name` is relative to the case's directory */
  extraVars: string[];
  limit?: string;
}

export type Stage = 'inventory' | 'playbook' | 'extra-vars' | 'plan';

export type CaseResult =
  | { outcome: 'planned'; hosts: number; phases: number }
  | { outcome: 'refused'; stage: Stage; exitCode: number; problems: InputProblem[] }
  | { outcome: 'crashed'; stage: Stage; error: string };

const registry = new RoleRegistry();

export function writeCase(dir: string, c: BadCase): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(c.files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
}

export async function runCase(dir: string, c: BadCase): Promise<CaseResult> {
  let stage: Stage = 'inventory';
  try {
    writeCase(dir, c);
    const inventory = loadInventory(join(dir, c.inventory), { projectRoot: dir });
    stage = 'playbook';
    const playbook = loadPlaybook(join(dir, c.playbook));
    stage = 'extra-vars';
    const extraVars = parseExtraVars(c.extraVars, dir);
    stage = 'plan';
    const plan = await buildPlan({ inventory, playbook, registry, extraVars, limit: c.limit, env: { ORCH_FUZZ_SET: 'from-env' } });
    return { outcome: 'planned', hosts: plan.hostVars.size, phases: plan.phases.length };
  } catch (e) {
    if (e instanceof InputError) return { outcome: 'refused', stage, exitCode: e.exitCode, problems: e.problems.map((p) => ({ ...p })) };
    return { outcome: 'crashed', stage, error: (e as Error)?.stack ?? String(e) };
  }
}
