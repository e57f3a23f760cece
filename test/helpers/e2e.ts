/**
 * What the end-to-end tests (test/e2e/) share: an inventory of inventories/ simulated as `orch sim up` would (its
 * sim.yml), a playbook (a file of playbooks/, or phases written for the test), the registry-built artifacts served
 * as the mirror, plans with the run's extra vars, runs, and commands on a host.
 *
 *   const e = useE2E({ inventory: 'vps-trio', phases: [...], artifacts: [{ service: 'spark', version: '3.5.0' }],
 *                      vars: (art) => ({ artifact_mirror: art.url, spark_sha512: art.sha512('spark') }) });
 *   const { code, events } = await e.run();  await e.on('vps3', 'curl ...');
 *
 * Part of a large inventory: `limit` (a host pattern, as `--limit`) simulates and runs only those hosts, and
 * `only` takes the named phases of the playbook, as they are written there:
 *   useE2E({ inventory: 'enterprise-50vm', playbook: 'playbooks/site.yml', only: ['coordination', 'streaming'], limit: 'etcd:kafka' })
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { expect } from 'vitest';
import { useArtifactMirror, type ArtifactMirrorHandle } from './artifact-mirror.js';
import { changed, handlers } from './role-test.js';
import { useRuns, type RunOutcome } from './run.js';
import { PROJECT_ROOT, useSimHosts, type SimHandle } from './sim.js';

export interface E2ESpec {
  /** a directory name under inventories/ */
  inventory: string;
  /** a playbook of the project (path under it) ... */
  playbook?: string;
  /** ... or the phases of one written for the test: `{ name, hosts, roles }` */
  phases?: Array<{ name: string; hosts: string; roles: string[] }>;
  /** with `playbook`: only these of its phases (by name, each as the playbook writes it, in the playbook's order) */
  only?: string[];
  /** only the inventory's hosts of this pattern are simulated and run (`--limit`) */
  limit?: string;
  artifacts?: Array<{ service: string; version: string }>;
  /** extra vars of every plan (the mirror is up when it is called) */
  vars?: (art: ArtifactMirrorHandle) => Record<string, unknown>;
}

export interface E2E {
  sim: SimHandle;
  art: ArtifactMirrorHandle;
  plan(): Promise<RunPlan>;
  run(): Promise<RunOutcome>;
  /** a command on a host that must succeed: its stdout */
  on(host: string, cmd: string): Promise<string>;
  log(s: string): void;
  /** runs the playbook again and expects what every deployment's last check is: exit 0, no change, no handler */
  secondRunChangesNothing(): Promise<void>;
}

export function useE2E(spec: E2ESpec): E2E {
  let playbook = spec.playbook ? join(PROJECT_ROOT, spec.playbook) : '';
  if (spec.phases) {
    playbook = join(mkdtempSync(join(tmpdir(), `orch-e2e-${spec.inventory}-`)), 'site.yml');
    writeFileSync(playbook, spec.phases.map((p) => `- { name: ${p.name}, hosts: ${JSON.stringify(p.hosts)}, roles: [${p.roles.join(', ')}] }`).join('\n') + '\n');
  }
  if (!playbook) throw new Error('useE2E: a playbook or phases');
  if (spec.only) playbook = playbookPhases(playbook, spec.only);
  const sim = useSimHosts({ inventory: loadInventory(spec.inventory, { projectRoot: PROJECT_ROOT }), name: `e2e-${spec.inventory}`, limit: spec.limit });
  const art = useArtifactMirror(spec.artifacts ?? []);
  const runs = useRuns();
  const log = (s: string) => console.log(`[e2e ${spec.inventory}] ${s}`);
  const plan = () =>
    buildPlan({
      inventory: loadInventory(spec.inventory, { projectRoot: PROJECT_ROOT, overlayFile: sim.overlayFile }),
      playbook: loadPlaybook(playbook),
      registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
      extraVars: [{ label: 'extra vars', values: spec.vars?.(art) ?? {}, origins: {} }],
      limit: spec.limit,
    });
  return {
    sim,
    art,
    plan,
    run: async () => runs.run(await plan()),
    async on(host, cmd) {
      const r = await (await runs.connector(await plan())(host)).runScript(cmd);
      if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    log,
    async secondRunChangesNothing() {
      const t0 = Date.now();
      const { code, events } = await runs.run(await plan());
      log(`second run: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${changed(events).length} changes`);
      expect(code).toBe(0);
      expect(changed(events)).toEqual([]);
      expect(handlers(events)).toEqual([]);
    },
  };
}

/**
 * A playbook of the named phases of `file` only, each as that file writes it (hosts, roles, serial ...), in its
 * order: a file in a temporary directory. A name the playbook does not have is an error.
 */
export function playbookPhases(file: string, names: string[]): string {
  const phases = parse(readFileSync(file, 'utf8')) as Array<{ name?: string }>;
  const missing = names.filter((n) => !phases.some((p) => p.name === n));
  if (missing.length) throw new Error(`${file} has no phase ${missing.join(', ')} (phases: ${phases.map((p) => p.name).join(', ')})`);
  const out = join(mkdtempSync(join(tmpdir(), 'orch-e2e-phases-')), 'playbook.yml');
  writeFileSync(out, `# the phases ${names.join(', ')} of ${file}\n` + stringify(phases.filter((p) => names.includes(p.name ?? ''))));
  return out;
}
