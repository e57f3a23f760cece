/** Loading what a command needs from its flags: inventory (+ sim overlay), playbook, roles, extra vars. */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { projectRoot } from '../core/project.js';
import { loadInventory } from '../inventory/load.js';
import { parseExtraVars } from '../inventory/extra-vars.js';
import type { Inventory } from '../inventory/types.js';
import { loadPlaybook, resolvePlaybookPath } from '../playbook/load.js';
import { buildPlan, type RunPlan } from '../playbook/plan.js';
import { RoleRegistry } from '../role/registry.js';
import { InputError } from '../core/errors.js';
import { ConnectionPool } from '../transport/pool.js';
import { connectSsh } from '../transport/ssh.js';
import type { Connection } from '../transport/types.js';

export interface CommonArgs {
  inventory: string;
  sim?: boolean;
  extraVars?: string[];
}

/** The simulation's state dir for an inventory (written by `orch sim up`). */
export function simDir(inventoryName: string): string {
  return join(projectRoot, '.orch', 'sim', inventoryName);
}

export function inventoryName(ref: string): string {
  return basename(resolve(existsSync(ref) ? ref : join(projectRoot, 'inventories', ref)).replace(/\.(ya?ml|ini)$/, ''));
}

export function loadInv(a: CommonArgs): Inventory {
  let overlayFile: string | undefined;
  if (a.sim) {
    overlayFile = join(simDir(inventoryName(a.inventory)), 'overlay.yml');
    if (!existsSync(overlayFile))
      throw new InputError([{ file: overlayFile, message: `no simulation for this inventory: run \`orch sim up --inventory ${a.inventory}\` first` }]);
  }
  return loadInventory(a.inventory, { projectRoot, overlayFile });
}

export interface PlanArgs extends CommonArgs {
  playbook: string;
  limit?: string;
  phase?: string;
  fromPhase?: string;
  tags?: string[];
  skipTags?: string[];
}

export async function loadPlan(a: PlanArgs): Promise<RunPlan> {
  const inv = loadInv(a);
  const file = resolvePlaybookPath(a.playbook, projectRoot);
  const playbook = loadPlaybook(file);
  const extraVars = parseExtraVars(a.extraVars ?? [], process.cwd());
  return buildPlan({
    inventory: inv,
    playbook,
    registry: RoleRegistry.forPlaybook(file),
    extraVars,
    limit: a.limit,
    phase: a.phase,
    fromPhase: a.fromPhase,
    tags: splitList(a.tags),
    skipTags: splitList(a.skipTags),
  });
}

function splitList(v?: string[]): string[] | undefined {
  return v?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** SSH keepalive: a host that stops answering is reported unreachable after 3 missed keepalives (15 s). */
const KEEPALIVE_MS = 5_000;

/** One SSH connection per host for the whole run. */
export function sshConnector(plan: Pick<RunPlan, 'connections'>, acceptNewHosts: boolean) {
  const pool = new ConnectionPool((spec) =>
    connectSsh(spec, {
      knownHosts: { file: spec.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'), acceptNew: acceptNewHosts },
      keepaliveMs: KEEPALIVE_MS,
    }),
  );
  return {
    pool,
    connect: (host: string): Promise<Connection> => {
      const spec = plan.connections.get(host);
      if (!spec) throw new Error(`no connection settings for ${host}`);
      return pool.get(host, spec);
    },
  };
}
