/**
 * Vitest harness for simulated hosts (Docker containers with systemd + sshd, see src/sim/).
 *
 *   const sim = useSimHosts({ name: 'ssh', hosts: [{ name: 'vm1', groups: ['web'] }] });
 *   it('...', async () => { const [vm1] = sim.hosts; ... vm1.address, vm1.keyFile, vm1.knownHostsFile ... });
 *
 * Hosts come up in beforeAll and are ALWAYS removed: afterAll, a failed beforeAll, and SIGINT/SIGTERM/exit of the
 * worker process. Simulation names always start with `test-`, so that the global setup (./sim-global-setup.ts,
 * registered as `globalSetup` of the integration project) removes leftovers of crashed runs.
 */
import { dirname, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { HostDef, Inventory } from '../../src/inventory/types.js';
import { inventoryDir } from '../../src/inventory/load.js';
import { loadSimFile, simFileVar, type SimFile } from '../../src/inventory/sim-file.js';
import { selectHosts } from '../../src/inventory/patterns.js';
import {
  simDown,
  simDownSync,
  simKill,
  simStart,
  simUp,
  type SimHostSpec,
  type SimState,
  type SimVariant,
} from '../../src/sim/index.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_PREFIX = 'test-';

export interface SimHostHandle {
  name: string;
  groups: string[];
  address: string;
  port: number;
  /** user to log in as (root) */
  user: string;
  keyFile: string;
  knownHostsFile: string;
  containerId: string;
}

export interface SimHandle {
  /** simulation name (starts with `test-`) */
  readonly name: string;
  /** connection variables per host (YAML), to merge over the inventory */
  readonly overlayFile: string;
  readonly hosts: SimHostHandle[];
  readonly state: SimState;
  host(name: string): SimHostHandle;
  /** hard-kill a host (docker kill) */
  kill(host: string): Promise<void>;
  /** start a killed host again (same address and host key) and wait until sshd answers */
  start(host: string): Promise<void>;
}

export type UseSimHostsSpec =
  | { name: string; hosts: SimHostSpec[]; variant?: SimVariant; log?: boolean }
  | { inventory: Inventory; name?: string; variant?: SimVariant; log?: boolean; /** only the hosts of this host pattern (as `--limit`) */ limit?: string };

// ---------------------------------------------------------------------------------------------------------------
// teardown on abnormal exit

const active = new Set<string>();
let handlersInstalled = false;

function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanup = () => {
    for (const name of active) simDownSync(name, { projectRoot: PROJECT_ROOT });
    active.clear();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      cleanup();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function lastVar(layers: HostDef['vars'], key: string): unknown {
  let v: unknown;
  for (const l of layers) if (key in l.values) v = l.values[key];
  return v;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Inventory hosts (those of `limit`, a host pattern, when given) → sim hosts; `sim_memory_mb` / `sim_cpus` from the
 * inventory's sim.yml (its groups:, then vars:, as the overlay's layer wins), else host vars, else the host's groups' vars.
 */
export function simHostsFromInventory(inv: Inventory, sim?: Pick<SimFile, 'vars' | 'groupVars'>, limit?: string): SimHostSpec[] {
  const only = limit === undefined ? undefined : new Set(selectHosts(inv, limit));
  if (only && only.size === 0) throw new Error(`limit ${limit} matches no host of ${inv.source}`);
  return [...inv.hosts.values()].filter((h) => !only || only.has(h.name)).map((h) => {
    const hint = (key: string) => {
      const fromSim = simFileVar(sim, h.groups, key);
      if (fromSim !== undefined) return num(fromSim);
      const own = lastVar(h.vars, key);
      if (own !== undefined) return num(own);
      for (const g of [...h.groups].reverse()) {
        const v = lastVar(inv.groups.get(g)?.vars ?? [], key);
        if (v !== undefined) return num(v);
      }
      return undefined;
    };
    return {
      name: h.name,
      groups: h.groups.filter((g) => g !== 'all'),
      memoryMb: hint('sim_memory_mb'),
      cpus: hint('sim_cpus'),
    };
  });
}

/** Bring simulated hosts up for the tests of the enclosing file/describe block, and always tear them down. */
export function useSimHosts(spec: UseSimHostsSpec): SimHandle {
  const base =
    'inventory' in spec ? (spec.name ?? basename(spec.inventory.source).replace(/\.(ya?ml|ini)$/, '')) : spec.name;
  // the worker's pid in the name: the global setup of another test run only removes simulations whose process is gone
  const name = `${base.startsWith(TEST_PREFIX) ? base : `${TEST_PREFIX}${base}`}-p${process.pid}`;
  // an inventory's sim.yml (what differs on simulated hosts, its hosts' sizes), as `orch sim up` reads it
  const simFile = 'inventory' in spec ? loadSimFile(inventoryDir(spec.inventory.source, PROJECT_ROOT)) : undefined;
  const hosts = 'inventory' in spec ? simHostsFromInventory(spec.inventory, simFile, spec.limit) : spec.hosts;
  const log = spec.log ? (s: string) => console.log(`[sim ${name}] ${s}`) : undefined;
  let state: SimState | undefined;

  const need = (): SimState => {
    if (!state) throw new Error(`simulated hosts of ${name} are not up (use them inside tests, after beforeAll)`);
    return state;
  };
  const toHandle = (s: SimState): SimHostHandle[] =>
    s.hosts.map((h) => ({
      name: h.name,
      groups: h.groups,
      address: h.address,
      port: h.port,
      user: 'root',
      keyFile: s.keyFile,
      knownHostsFile: s.knownHostsFile,
      containerId: h.containerId,
    }));

  beforeAll(async () => {
    installProcessHandlers();
    active.add(name);
    try {
      await simDown(name, { projectRoot: PROJECT_ROOT }); // leftovers of an earlier run of the same test
      state = await simUp({ name, hosts, variant: spec.variant, projectRoot: PROJECT_ROOT, log, vars: simFile?.vars, addressVars: simFile?.addressVars, hostAddressVars: simFile?.hostAddressVars, groupVars: simFile?.groupVars });
    } catch (e) {
      await simDown(name, { projectRoot: PROJECT_ROOT }).catch(() => {});
      active.delete(name);
      throw e;
    }
  });

  afterAll(async () => {
    try {
      await simDown(name, { projectRoot: PROJECT_ROOT });
    } finally {
      active.delete(name);
      state = undefined;
    }
  });

  return {
    name,
    get overlayFile() {
      return need().overlayFile;
    },
    get hosts() {
      return toHandle(need());
    },
    get state() {
      return need();
    },
    host(h: string) {
      const found = toHandle(need()).find((x) => x.name === h);
      if (!found) throw new Error(`simulation ${name} has no host ${h}`);
      return found;
    },
    kill: (h: string) => simKill(name, h),
    start: (h: string) => simStart(name, h, { log }),
  };
}
