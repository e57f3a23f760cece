/**
 * Handlers that reload instead of restart: a role notifies `reload:NAME` for a service that rereads its
 * configuration in place (HAProxy: the master process stays, connections are kept); the runner's default handler
 * then runs `systemctl reload NAME`, reports `reload NAME`, and a plain name still restarts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPlan } from '../../src/runner/run.js';
import { handlerTitle, restartScript } from '../../src/runner/host-phase.js';
import { localConnection } from '../../src/transport/local.js';
import type { Operation } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';
import type { RunPlan } from '../../src/playbook/plan.js';
import type { RunEvent } from '../../src/report/events.js';
import { fileOp, testPlan } from './runner-harness.js';

const planFor = (ops: () => Operation<any>[]): RunPlan => testPlan(['a'], [{ name: 'p', ops }]);

describe('reload handlers', () => {
  it('reload:NAME runs systemctl reload NAME; a plain name restarts', () => {
    expect(restartScript('reload:haproxy')).toBe('systemctl reload haproxy');
    expect(restartScript('haproxy')).toBe('systemctl restart haproxy');
    expect(handlerTitle('reload:haproxy')).toBe('reload haproxy');
    expect(handlerTitle('redis-server')).toBe('restart redis-server');
  });

  it('a changed file notifying reload:NAME reloads once at the end of the phase, reported as reload; --check says would reload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-reload-'));
    const log = join(dir, 'handler.log');
    const ops = () => [fileOp(join(dir, 'a.cfg'), 'a', ['reload:haproxy']), fileOp(join(dir, 'b.cfg'), 'b', ['reload:haproxy', 'other'])];
    const handlerScript = (n: string) => `echo ${q(restartScript(n))} >> ${q(log)}`;
    const checkEvents: RunEvent[] = [];
    await runPlan(planFor(ops), { check: true, diff: false, emit: (e) => checkEvents.push(e), connect: async () => localConnection(), handlerScript });
    expect(checkEvents.filter((e) => e.type === 'handler').map((e) => `${(e as any).name}: ${(e as any).reason}`)).toEqual([
      'reload haproxy: would reload (notified)',
      'restart other: would restart (notified)',
    ]);
    const events: RunEvent[] = [];
    expect(await runPlan(planFor(ops), { check: false, diff: false, emit: (e) => events.push(e), connect: async () => localConnection(), handlerScript })).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('systemctl reload haproxy\nsystemctl restart other\n');
    expect(events.filter((e) => e.type === 'handler').map((e) => (e as any).name)).toEqual(['reload haproxy', 'restart other']);
  });
});
