/**
 * What the role integration tests share: an inventory and a playbook written for simulated hosts, plans built
 * from them with extra vars, runs, commands on a host, and the views of a run's events the tests assert on.
 *
 *   const t = useRoleTest({
 *     name: 'etcd',
 *     hosts: [{ name: 'etcd1', groups: ['etcd'] }, ...],
 *     inventoryVars: { etcd_source: 'package' },
 *     playbook: [{ name: 'os', hosts: 'all', roles: ['common'] }, { name: 'coordination', hosts: 'etcd', roles: ['etcd'] }],
 *   });
 *   const { code, events } = await t.run({ vars: { etcd_heartbeat_ms: 200 }, check: true });
 *   expect(changed(events)).toEqual([...]);
 *   await t.on('etcd1', 'etcdctl endpoint health');
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan, type RunPlan } from '../../src/playbook/plan.js';
import type { RunEvent } from '../../src/report/events.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { useRuns, type RunOptions, type RunOutcome } from './run.js';
import { PROJECT_ROOT, useSimHosts, type SimHandle } from './sim.js';

export interface RoleTestHost {
  name: string;
  /** inventory groups (besides all) */
  groups: string[];
  /** the simulated host's memory limit */
  memoryMb?: number;
  cpus?: number;
  /** host vars in the inventory */
  vars?: Record<string, unknown>;
}

export interface RoleTestPhase {
  name: string;
  hosts: string;
  roles: string[];
}

export interface RoleTestSpec {
  /** simulation name (the harness adds the test prefix and the worker's pid) */
  name: string;
  hosts: RoleTestHost[];
  /** `all.vars` of the inventory */
  inventoryVars?: Record<string, unknown>;
  /** the playbook's phases */
  playbook: RoleTestPhase[];
  /** extra vars of every plan (a run's own `vars` go over them); a function for values known only once the tests run */
  vars?: Record<string, unknown> | (() => Record<string, unknown>);
}

export interface RoleTest {
  sim: SimHandle;
  /** the directory holding hosts.yml and site.yml */
  dir: string;
  plan(vars?: Record<string, unknown>): Promise<RunPlan>;
  run(o?: { vars?: Record<string, unknown>; check?: boolean } & Omit<RunOptions, 'check'>): Promise<RunOutcome>;
  /** a command on a host, its exit code and output */
  sh(host: string, cmd: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** a command on a host that must succeed: its stdout */
  on(host: string, cmd: string): Promise<string>;
  connector: ReturnType<typeof useRuns>['connector'];
}

/** Writes the inventory (groups from the hosts) and the playbook to a temp dir, starts the hosts for this file. */
export function useRoleTest(spec: RoleTestSpec): RoleTest {
  const sim = useSimHosts({ name: spec.name, hosts: spec.hosts.map((h) => ({ name: h.name, groups: h.groups, memoryMb: h.memoryMb, cpus: h.cpus })) });
  const runs = useRuns();
  const dir = mkdtempSync(join(tmpdir(), `orch-${spec.name}-`));
  const groups = new Map<string, Record<string, Record<string, unknown> | null>>();
  for (const h of spec.hosts) for (const g of h.groups) groups.set(g, { ...(groups.get(g) ?? {}), [h.name]: null });
  const ungrouped = spec.hosts.filter((h) => !h.groups.length);
  const hostVars = (name: string) => spec.hosts.find((h) => h.name === name)?.vars;
  const all: Record<string, unknown> = {
    ...(spec.inventoryVars ? { vars: spec.inventoryVars } : {}),
    ...(ungrouped.length ? { hosts: Object.fromEntries(ungrouped.map((h) => [h.name, h.vars ?? null])) } : {}),
    children: Object.fromEntries([...groups].map(([g, members]) => [g, { hosts: Object.fromEntries(Object.keys(members).map((m) => [m, hostVars(m) ?? null])) }])),
  };
  writeFileSync(join(dir, 'hosts.yml'), stringify({ all }));
  const playbookFile = join(dir, 'site.yml');
  writeFileSync(playbookFile, stringify(spec.playbook));

  const plan = async (vars: Record<string, unknown> = {}): Promise<RunPlan> => {
    const values = { ...(typeof spec.vars === 'function' ? spec.vars() : (spec.vars ?? {})), ...vars };
    return buildPlan({
      inventory: loadInventory(dir, { overlayFile: sim.overlayFile }),
      playbook: loadPlaybook(playbookFile),
      registry: new RoleRegistry([join(PROJECT_ROOT, 'roles')]),
      extraVars: [{ label: 'extra vars', values, origins: Object.fromEntries(Object.keys(values).map((k) => [k, { file: '-e', key: k }])) }],
    });
  };
  const sh = async (host: string, cmd: string) => (await runs.connector(await plan())(host)).runScript(cmd);
  return {
    sim,
    dir,
    plan,
    run: async (o = {}) => {
      const { vars, ...opts } = o;
      return runs.run(await plan(vars), { ...opts, check: !!o.check });
    },
    sh,
    on: async (host, cmd) => {
      const r = await sh(host, cmd);
      if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    connector: runs.connector,
  };
}

/** operations that changed (or would, under --check), as `host kind name` */
export const changed = (events: RunEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'op-result' && e.result.status === 'changed' ? [`${e.host} ${e.result.kind} ${e.result.name}`] : []));

/** handlers reported (run, would run under --check, or failed), in order, as `host name` */
export const handlers = (events: RunEvent[]): string[] => events.flatMap((e) => (e.type === 'handler' ? [`${e.host} ${e.name}`] : []));

/** what failed: hosts, an aborted run, failed operations (with their output), for an assertion message */
export const failures = (events: RunEvent[]): string[] =>
  events.flatMap((e) =>
    e.type === 'host-failed'
      ? [`${e.host}: ${e.error}`]
      : e.type === 'run-aborted'
        ? [`run aborted in ${e.phase}: ${e.reason}`]
        : e.type === 'op-result' && e.result.status === 'failed'
          ? [`${e.host} ${e.result.kind} ${e.result.name}: ${e.result.reason}${e.result.output ? `\n${e.result.output.slice(0, 1500)}` : ''}`]
          : [],
  );

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls `probe` until it returns a value `done` accepts, or the time is up; returns the last value and the seconds taken */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, intervalMs = 500): Promise<{ value: T; seconds: number }> {
  const t0 = Date.now();
  let value = await probe();
  while (!done(value) && Date.now() - t0 < timeoutMs) {
    await sleep(intervalMs);
    value = await probe();
  }
  return { value, seconds: (Date.now() - t0) / 1000 };
}
