/**
 * group_vars/ and host_vars/ next to the inventory, found as Ansible's host_group_vars plugin finds them:
 * the first of `<name>`, `<name>.yml`, `<name>.yaml`, `<name>.json` that exists; a directory is read
 * recursively in file-name order (hidden files, `~` backups and other extensions skipped).
 * Each file becomes one VarLayer (kind `file`), checked against the connection-variable schema.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { InputProblem } from '../core/errors.js';
import { emptyLayer, setVar } from './raw.js';
import { VARS_SCHEMA, check, describeValue, joinKey } from './schema.js';
import type { VarLayer } from './types.js';
import { readYamlFile } from './yaml-file.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Files holding vars for `name` under `dir` (e.g. `<inventory>/group_vars`), in merge order. */
export function findVarFiles(dir: string, name: string): string[] {
  for (const ext of ['', ...EXTENSIONS]) {
    const p = join(dir, name + ext);
    if (!existsSync(p)) continue;
    return statSync(p).isDirectory() ? dirFiles(p) : [p];
  }
  return [];
}

function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const p = join(dir, entry);
    const ext = extname(entry);
    if (statSync(p).isDirectory()) {
      if (!ext) out.push(...dirFiles(p));
    } else if (!ext || EXTENSIONS.includes(ext)) {
      out.push(p);
    }
  }
  return out;
}

/** Loads the var files of one group or host; `what` is e.g. `group kafka` or `host vm1`. */
export function loadVarFiles(varsDir: string, name: string, what: string): { layers: VarLayer[]; problems: InputProblem[] } {
  const layers: VarLayer[] = [];
  const problems: InputProblem[] = [];
  for (const path of findVarFiles(varsDir, name)) {
    const parsed = readYamlFile(path);
    const { file, data } = parsed;
    problems.push(...parsed.problems);
    if (parsed.problems.length || data === undefined || data === null) continue;
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ file, line: parsed.lineOf([]), message: `expected a mapping of variables, got ${describeValue(data)}` });
      continue;
    }
    const found = check(VARS_SCHEMA, data, file, (p) => ({ line: parsed.lineOf(p), key: joinKey(p) }));
    problems.push(...found);
    if (found.length) continue;
    const layer = emptyLayer(`${what} (${relative(join(varsDir, '..'), path)})`, 'file');
    for (const [k, v] of Object.entries(data)) setVar(layer, k, v, { file, line: parsed.lineOf([k]), key: joinKey([k]) });
    layers.push(layer);
  }
  return { layers, problems };
}
