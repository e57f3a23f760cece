/**
 * Vitest globalSetup of the integration project (`globalSetup: ['test/helpers/sim-global-setup.ts']`):
 * removes simulated hosts left over by crashed runs (simulations named `test-*`) and builds the test-host image
 * once, before any test file starts. Kept apart from ./sim.ts, which imports `vitest` (not allowed here).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureImage, simDownAll } from '../../src/sim/index.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * A test simulation left behind: named `test-...` and, when its name ends in `-p<pid>` (test/helpers/sim.ts), that
 * process is gone. Simulations of another test run still going on this machine are left alone.
 */
const isTestSim = (n: string) => {
  if (!n.startsWith('test-')) return false;
  const pid = /-p(\d+)$/.exec(n)?.[1];
  if (!pid) return true;
  try {
    process.kill(Number(pid), 0);
    return false; // alive: another run's
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

export async function setup(): Promise<void> {
  const removed = await simDownAll({ projectRoot: PROJECT_ROOT, filter: isTestSim });
  if (removed.length) console.log(`[sim] removed leftover simulations: ${removed.join(', ')}`);
  const t0 = Date.now();
  const tag = await ensureImage({ log: (s) => console.log(`[sim] ${s}`) });
  const s = (Date.now() - t0) / 1000;
  if (s > 1) console.log(`[sim] image ${tag} ready in ${s.toFixed(1)} s`);
}

export async function teardown(): Promise<void> {
  await simDownAll({ projectRoot: PROJECT_ROOT, filter: isTestSim });
}
