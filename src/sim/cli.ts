/**
 * `orch sim up|down|status`: argument-parser-free commands printing human output; bin/orch wires them to yargs.
 * They take the loaded inventory's hosts; resource hints come from `sim_memory_mb` / `sim_cpus`: the inventory's
 * sim.yml (its groups:, then vars:), else the host's variables.
 */
import { isAbsolute, join, relative } from 'node:path';
import { noLog, type Log } from './docker.js';
import {
  simDown,
  simDownAll,
  simStateDir,
  simStatus,
  simUp,
  type SimHostStatus,
  type SimState,
  type SimVariant,
} from './hosts.js';
import { prepareSimArtifacts, type SimArtifactSpec } from './artifacts/prepare.js';
import { simFileVar } from '../inventory/sim-file.js';

export interface SimInventoryHost {
  name: string;
  groups: string[];
  vars: Record<string, unknown>;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** A group list short enough for a table cell. */
function groupsCell(groups: string[], max = 48): string {
  if (groups.length === 0) return '-';
  let out = '';
  let n = 0;
  for (const g of groups) {
    const next = out ? `${out},${g}` : g;
    if (next.length > max && out) break;
    out = next;
    n++;
  }
  return n < groups.length ? `${out},… (+${groups.length - n})` : out;
}

function pretty(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function uptime(s?: number): string {
  if (s === undefined) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The command line to log into one simulated host. */
export function simSshCommand(state: Pick<SimState, 'keyFile' | 'knownHostsFile'>, address: string): string {
  return `ssh -i ${pretty(state.keyFile)} -o UserKnownHostsFile=${pretty(state.knownHostsFile)} root@${address}`;
}

/** `orch sim up --inventory <name>`: one container per inventory host; prints the hosts and how to reach them. */
export async function simUpCommand(opts: {
  inventoryName: string;
  projectRoot: string;
  hosts: SimInventoryHost[];
  variant?: SimVariant;
  /** the inventory's sim.yml: variables for the overlay, variables given an address of the network */
  simFile?: { file: string; vars: Record<string, unknown>; addressVars: string[]; hostAddressVars: Record<string, string>; groupVars: Record<string, Record<string, unknown>>; artifacts?: SimArtifactSpec[] };
  log?: Log;
}): Promise<SimState> {
  const log = opts.log ?? console.log;
  const hosts = opts.hosts.map((h) => ({
    name: h.name,
    groups: h.groups.filter((g) => g !== 'all'),
    // sim.yml's hints (its groups:, then vars:) over the inventory's, as the overlay's layer wins
    memoryMb: num(simFileVar(opts.simFile, h.groups, 'sim_memory_mb') ?? h.vars.sim_memory_mb),
    cpus: num(simFileVar(opts.simFile, h.groups, 'sim_cpus') ?? h.vars.sim_cpus),
  }));
  // the releases the hosts need, as a mirror on this machine's disk (built or downloaded once, then cached)
  const artifacts = await prepareSimArtifacts(opts.simFile?.artifacts ?? [], join(simStateDir(opts.projectRoot, opts.inventoryName), 'artifacts'), (s) => log(`  ${s}`));
  if (artifacts.lines.length) log(`artifacts for the hosts (mirror ${artifacts.vars.artifact_mirror}):\n${artifacts.lines.map((l) => `  ${l}`).join('\n')}`);
  log(`bringing up ${hosts.length} simulated hosts for inventory ${opts.inventoryName} ...`);
  const state = await simUp({
    name: opts.inventoryName,
    hosts,
    variant: opts.variant,
    projectRoot: opts.projectRoot,
    vars: { ...artifacts.vars, ...(opts.simFile?.vars ?? {}) },
    addressVars: opts.simFile?.addressVars,
    hostAddressVars: opts.simFile?.hostAddressVars,
    groupVars: opts.simFile?.groupVars,
    log: (s) => log(`  ${s}`),
  });
  log('');
  const rows = [['HOST', 'ADDRESS', 'GROUPS', 'MEMORY', 'CPUS']];
  for (const h of state.hosts) {
    rows.push([h.name, h.address, groupsCell(h.groups), h.memoryMb ? `${h.memoryMb} MiB` : '-', h.cpus ? String(h.cpus) : '-']);
  }
  log(table(rows));
  log('');
  log(`connection overlay: ${pretty(state.overlayFile)}  (used by \`orch run ... --inventory ${opts.inventoryName} --sim\`)`);
  if (opts.simFile) {
    const n = Object.keys(opts.simFile.vars).length;
    log(`from ${opts.simFile.file}: ${n} variable(s) for every host${state.addresses ? `, ${Object.entries(state.addresses).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`);
  }
  if (state.aptProxy) log(`apt cache:          ${state.aptProxy}`);
  if (state.hosts[0]) log(`log in:             ${simSshCommand(state, state.hosts[0].address)}`);
  log(`tear down:          orch sim down --inventory ${opts.inventoryName}`);
  return state;
}

/** `orch sim down --inventory <name>` (or every simulation with `all`). */
export async function simDownCommand(opts: {
  inventoryName?: string;
  all?: boolean;
  projectRoot: string;
  log?: Log;
}): Promise<void> {
  const log = opts.log ?? console.log;
  if (opts.all || !opts.inventoryName) {
    const names = await simDownAll({ projectRoot: opts.projectRoot, log: noLog });
    log(names.length ? `removed simulations: ${names.join(', ')}` : 'no simulations to remove');
    return;
  }
  const r = await simDown(opts.inventoryName, { projectRoot: opts.projectRoot });
  log(
    r.containers || r.networks
      ? `simulation ${opts.inventoryName}: removed ${r.containers} containers and ${r.networks} network(s)`
      : `simulation ${opts.inventoryName}: nothing to remove`,
  );
}

/** `orch sim status [--inventory <name>]`: every simulated host, its state, address and uptime. */
export async function simStatusCommand(opts: {
  inventoryName?: string;
  projectRoot: string;
  log?: Log;
}): Promise<SimHostStatus[]> {
  const log = opts.log ?? console.log;
  const st = await simStatus(opts.inventoryName);
  if (st.length === 0) {
    log(
      opts.inventoryName
        ? `no simulated hosts for ${opts.inventoryName} (start them: orch sim up --inventory ${opts.inventoryName})`
        : 'no simulated hosts (start some: orch sim up --inventory <name>)',
    );
    return st;
  }
  const rows = [['SIM', 'HOST', 'STATE', 'ADDRESS', 'UPTIME', 'GROUPS']];
  for (const s of st) rows.push([s.sim, s.host, s.state, s.address ?? '-', uptime(s.uptimeSeconds), groupsCell(s.groups)]);
  log(table(rows));
  const first = st.find((s) => s.state === 'running' && s.address);
  if (first) {
    const dir = simStateDir(opts.projectRoot, first.sim);
    log('');
    log(`log in: ${simSshCommand({ keyFile: join(dir, 'id_ed25519'), knownHostsFile: join(dir, 'known_hosts') }, first.address!)}`);
  }
  return st;
}
