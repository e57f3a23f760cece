/**
 * A host killed mid-phase: the run reports it unreachable, the others finish the phase, the exit code is
 * non-zero and the recap says where to resume; once the host is back, a rerun converges it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSimHosts, PROJECT_ROOT } from '../helpers/sim.js';
import { useRuns } from '../helpers/run.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import type { RunEvent } from '../../src/report/events.js';

const HOSTS = ['f1', 'f2', 'f3'];
const sim = useSimHosts({ name: 'failure', hosts: HOSTS.map((name) => ({ name, groups: ['demo'] })) });
const playbookFile = join(PROJECT_ROOT, 'test/fixtures/converge/playbooks/slow.yml');
const invDir = mkdtempSync(join(tmpdir(), 'orch-failure-'));
writeFileSync(join(invDir, 'hosts.yml'), `all:\n  hosts:\n${HOSTS.map((h) => `    ${h}:\n`).join('')}`);

const runs = useRuns();

async function run(onEvent?: (e: RunEvent) => void) {
  const p = await buildPlan({
    inventory: loadInventory(invDir, { overlayFile: sim.overlayFile }),
    playbook: loadPlaybook(playbookFile),
    registry: RoleRegistry.forPlaybook(playbookFile),
  });
  return runs.run(p, { onEvent });
}

describe('a host killed mid-phase', () => {
  it('is reported unreachable, the others finish, the run exits non-zero and says where to resume', async () => {
    let killed: Promise<void> | undefined;
    const { code, events } = await run((e) => {
      // the slow phase's apply script runs for 6 s on every host: kill f3 in the middle of it
      if (e.type === 'phase-start' && e.phase === 'slow') killed = new Promise((r) => setTimeout(r, 2000)).then(() => sim.kill('f3'));
    });
    await killed;
    expect(code).toBe(3);
    const failed = events.filter((e) => e.type === 'host-failed') as Array<Extract<RunEvent, { type: 'host-failed' }>>;
    expect(failed.map((e) => [e.host, e.phase, e.unreachable])).toEqual([['f3', 'slow', true]]);
    const ended = events.filter((e) => e.type === 'host-end' && e.phase === 'slow').map((e) => (e as any).host).sort();
    expect(ended).toEqual(['f1', 'f2']);
    const recap = events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap.resumeFrom).toBe('slow');
    expect(recap.hosts.f3.unreachable).toBe(1);
    expect(recap.hosts.f1).toMatchObject({ failed: 0, unreachable: 0 });
  });

  it('converges once the host is back', async () => {
    await sim.start('f3');
    const { code, events } = await run();
    expect(code).toBe(0);
    const recap = events.find((e) => e.type === 'recap') as Extract<RunEvent, { type: 'recap' }>;
    expect(recap.hosts.f1.changed).toBe(0);
    expect(recap.hosts.f2.changed).toBe(0);
    const f3 = events.filter((e) => e.type === 'op-result' && e.host === 'f3' && e.result.status === 'changed').map((e) => (e as any).result.name);
    expect(f3).toContain('slow marker');
  });
});
