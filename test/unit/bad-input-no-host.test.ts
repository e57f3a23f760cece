/**
 * Issue 16, bad input touches no host: a seeded sample of the property test's broken inputs
 * (test/helpers/bad-input/generators.ts) through the whole `orch run` entry (src/cli/main.ts -> commands/run.ts),
 * with the SSH connector replaced by one that records every connection attempt, and every TCP connect of this
 * process recorded too. Each broken input must exit 4 with zero attempts; inputs that plan must reach the connector
 * (the control that shows the recorder sees what a run would connect to).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { projectArb, renderCase, ROLE_GROUPS } from '../helpers/bad-input/generators.js';
import { CaseRunner } from '../helpers/bad-input/runner.js';
import { writeCase, type BadCase } from '../helpers/bad-input/run-case.js';

const attempts = vi.hoisted(() => [] as string[]);
vi.mock('../../src/transport/ssh.js', async (importOriginal) => {
  const { UnreachableError } = await import('../../src/transport/types.js');
  return {
    ...(await importOriginal<typeof import('../../src/transport/ssh.js')>()),
    connectSsh: async (spec: { host: string; address: string; port: number }) => {
      attempts.push(`${spec.host} (${spec.address}:${spec.port})`);
      throw new UnreachableError(spec.host, 'connection attempt recorded by the test, not made');
    },
  };
});

const SEED = Number(process.env.ORCH_FUZZ_SEED ?? 1616);
const BROKEN = 60;

let root: string;
let runner: CaseRunner;
const sockets: string[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'orch-no-host-'));
  runner = new CaseRunner({ timeoutMs: 15_000 });
  vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    sockets.push(JSON.stringify(args[0]));
    throw new Error('TCP connect attempted during a bad-input run');
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await runner?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** `orch run` of a case, as a user would type it; -e @file made absolute (workers cannot chdir). */
async function orchRun(dir: string, c: BadCase): Promise<{ code: number; stderr: string; stdout: string }> {
  writeCase(dir, c);
  const args = ['run', join(dir, c.playbook), '--inventory', join(dir, c.inventory), '--plain'];
  for (const e of c.extraVars) args.push(`--extra-vars=${e.startsWith('@') && e.length > 1 ? `@${join(dir, e.slice(1))}` : e}`);
  if (c.limit !== undefined) args.push(`--limit=${c.limit}`);
  let stderr = '';
  let stdout = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: any) => ((stderr += String(s)), true));
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => ((stdout += String(s)), true));
  try {
    return { code: await main(args), stderr, stdout };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

describe('bad input touches no host (orch run with a connector that records every attempt)', () => {
  it(`a seeded sample of ${BROKEN} broken inputs exits 4 before any connection; inputs that plan do reach the connector`, async () => {
    const reg = new RoleRegistry();
    const roleVars: Record<string, unknown> = {};
    for (const r of ['common', 'java', ...Object.keys(ROLE_GROUPS)]) for (const [k, spec] of Object.entries((await reg.load(r)).vars)) roleVars[k] = spec.default;
    const models = fc.sample(projectArb(roleVars, { inventory: 0.5, vars: 0.5, playbook: 0.5, extra: 0.5, text: 0.3 }), { seed: SEED, numRuns: 800 });
    const broken: BadCase[] = [];
    const planned: BadCase[] = [];
    const stages: Record<string, number> = {};
    for (const [i, m] of models.entries()) {
      if (broken.length >= BROKEN && planned.length >= 3) break;
      const c = renderCase(m);
      // the CLI passes -e words through yargs: keep cases whose every -e is one argument it hands on unchanged
      if (c.extraVars.some((e) => e === '' || e.startsWith('-'))) continue;
      const r = await runner.run(join(root, `probe-${i}`), c); // bounded: a case that hangs shows here, not in main()
      // at most a third from one stage, so that refusals by the planner (after the loaders) are in the sample too
      if (r.outcome === 'refused' && broken.length < BROKEN && (stages[r.stage] ?? 0) < BROKEN / 3) {
        broken.push(c);
        stages[r.stage] = (stages[r.stage] ?? 0) + 1;
      } else if (r.outcome === 'planned' && planned.length < 3) planned.push(c);
    }
    expect(broken).toHaveLength(BROKEN);
    for (const [i, c] of broken.entries()) {
      const before = attempts.length;
      const r = await orchRun(join(root, `broken-${i}`), c);
      expect({ case: i, code: r.code, attempts: attempts.slice(before), stdout: r.stdout }).toEqual({ case: i, code: 4, attempts: [], stdout: '' });
      expect(r.stderr).toMatch(/^(warning: .*\n)*error: bad input \(nothing was touched\):\n/);
    }
    expect(sockets).toEqual([]);
    console.log(`bad input touches no host: seed ${SEED}, ${broken.length} broken inputs (refused at ${JSON.stringify(stages)}) ran through orch run: exit 4, 0 connection attempts`);

    expect(planned.length).toBeGreaterThan(0);
    for (const [i, c] of planned.entries()) {
      const before = attempts.length;
      const r = await orchRun(join(root, `planned-${i}`), c);
      expect(r.code).toBe(3); // every host "unreachable": the recorder refused the connection
      expect(attempts.length).toBeGreaterThan(before);
    }
    expect(sockets).toEqual([]);
  }, 120_000);
});
