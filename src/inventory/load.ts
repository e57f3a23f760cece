/**
 * loadInventory: finds the inventory (a name under `<projectRoot>/inventories/`, or a directory or file
 * path), reads it (YAML or INI, as Ansible does), adds group_vars/ and host_vars/ next to it and the
 * optional sim overlay. Every problem in every file is collected and thrown at once as one InputError.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { InputProblem } from '../core/errors.js';
import { buildInventory } from './build.js';
import { readIniInventory } from './ini.js';
import { applyOverlay } from './overlay.js';
import { displayPath } from './paths.js';
import type { RawInventory } from './raw.js';
import type { Inventory } from './types.js';
import { loadVarFiles } from './var-files.js';
import { parseYaml, readInputFile } from './yaml-file.js';
import { readYamlInventory } from './yaml-inventory.js';

export interface LoadOptions {
  /** where `inventories/<name>/` is looked up; default: the current directory */
  projectRoot?: string;
  /** the simulator's overlay file (see ./overlay.ts) */
  overlayFile?: string;
}

/** Inventory file names looked for in an inventory directory, in this order. */
export const INVENTORY_FILES = ['hosts.yml', 'hosts.yaml', 'inventory.yml', 'inventory.yaml', 'hosts.json', 'hosts.ini', 'inventory.ini', 'hosts'];

export function loadInventory(source: string, opts: LoadOptions = {}): Inventory {
  const projectRoot = resolve(opts.projectRoot ?? process.cwd());
  const sourcePath = resolveSource(source, projectRoot);
  const file = inventoryFile(sourcePath);
  const dir = dirname(file);

  const read = readFile(file, displayPath(file));
  if (!read.raw) throw new InputError(read.problems);
  const { inventory: inv, problems } = buildInventory(read.raw, displayPath(sourcePath));

  for (const g of inv.groups.values()) {
    const r = loadVarFiles(join(dir, 'group_vars'), g.name, `group ${g.name}`);
    g.vars.push(...r.layers);
    problems.push(...r.problems);
  }
  for (const h of inv.hosts.values()) {
    const r = loadVarFiles(join(dir, 'host_vars'), h.name, `host ${h.name}`);
    h.vars.push(...r.layers);
    problems.push(...r.problems);
  }
  if (opts.overlayFile) problems.push(...applyOverlay(inv, resolve(opts.overlayFile)));
  if (problems.length) throw new InputError(problems);
  return inv;
}

/** The directory holding an inventory's file (and its group_vars/, host_vars/, sim.yml). */
export function inventoryDir(source: string, projectRoot = process.cwd()): string {
  return dirname(inventoryFile(resolveSource(source, resolve(projectRoot))));
}

function isBareName(source: string): boolean {
  return !/[\\/]/.test(source) && source !== '.' && source !== '..';
}

/** `source` as an existing path: a bare name is looked up under `<projectRoot>/inventories/` first. */
function resolveSource(source: string, projectRoot: string): string {
  const tried = isBareName(source) ? [join(projectRoot, 'inventories', source), resolve(source)] : [resolve(source)];
  const found = tried.find((p) => existsSync(p));
  if (found) return found;
  const names = availableInventories(projectRoot);
  const hint = names.length
    ? `available inventories in ${displayPath(join(projectRoot, 'inventories'))}: ${names.join(', ')}`
    : `no inventories in ${displayPath(join(projectRoot, 'inventories'))}`;
  throw new InputError([{ file: source, message: `inventory not found (tried ${tried.map(displayPath).join(', ')}); ${hint}` }]);
}

/** Names of the inventories under `<projectRoot>/inventories/`. */
export function availableInventories(projectRoot: string): string[] {
  const dir = join(projectRoot, 'inventories');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

/** The inventory file itself: `p` if it is a file, else the first INVENTORY_FILES entry in the directory. */
function inventoryFile(p: string): string {
  if (!statSync(p).isDirectory()) return p;
  const found = INVENTORY_FILES.map((f) => join(p, f)).filter((f) => existsSync(f) && statSync(f).isFile());
  if (found.length === 0) {
    throw new InputError([{ file: displayPath(p), message: `no inventory file in this directory; expected one of ${INVENTORY_FILES.join(', ')}` }]);
  }
  if (found.length > 1) {
    throw new InputError([{ file: displayPath(p), message: `several inventory files (${found.map((f) => basename(f)).join(', ')}); keep one` }]);
  }
  return found[0];
}

function readFile(path: string, shown: string): { raw?: RawInventory; problems: InputProblem[] } {
  const read = readInputFile(path, shown);
  if ('problem' in read) return { problems: [read.problem] };
  const { text } = read;
  return looksLikeYaml(path, text) ? readYamlInventory(parseYaml(text, shown)) : readIniInventory(text, shown);
}

/** By extension; for files without one (`hosts`), YAML if it parses as a mapping and has no `[section]`. */
function looksLikeYaml(path: string, text: string): boolean {
  const ext = extname(path).toLowerCase();
  if (['.yml', '.yaml', '.json'].includes(ext)) return true;
  if (ext === '.ini') return false;
  if (/^\s*\[[^\]]*\]\s*([#;].*)?$/m.test(text)) return false;
  const parsed = parseYaml(text, path);
  return parsed.problems.length === 0 && typeof parsed.data === 'object' && parsed.data !== null && !Array.isArray(parsed.data);
}
