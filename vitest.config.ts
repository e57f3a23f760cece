import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // two test files at a time (vitest's default on this 2-core machine is one): an integration file is one process
    // with its own simulated hosts (named after its pid), and most of its time is services starting and waiting, so
    // two overlap well. ORCH_TEST_WORKERS=1 runs them one after the other.
    maxWorkers: Number(process.env.ORCH_TEST_WORKERS ?? 2),
    minWorkers: 1,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/sim-global-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          pool: 'forks',
        },
      },
      {
        // whole deployments on simulated hosts: `npm run e2e` (not part of `npm test`)
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/sim-global-setup.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
