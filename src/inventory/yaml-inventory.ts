/**
 * Ansible's YAML inventory format (`all:` / `children:` / `hosts:` / `vars:`), validated against
 * INVENTORY_SCHEMA first so that every structural problem is reported with its line, then read into a
 * RawInventory. As in Ansible, `hosts: vm1` (a string) means `hosts: { vm1: null }`, a host may be listed
 * in several groups (its vars merge, the later one wins) and top-level keys other than `all` are groups.
 */
import type { InputProblem } from '../core/errors.js';
import { expandHostPattern } from './host-pattern.js';
import { RawInventory, setVar } from './raw.js';
import { INVENTORY_SCHEMA, check, joinKey } from './schema.js';
import type { VarLayer } from './types.js';
import type { KeyPath, ParsedYaml } from './yaml-file.js';

type Mapping = Record<string, unknown>;

const MAX_DEPTH = 100;

export function readYamlInventory(parsed: ParsedYaml): { raw?: RawInventory; problems: InputProblem[] } {
  const { file, data } = parsed;
  if (parsed.problems.length) return { problems: parsed.problems };
  if (data === undefined || data === null) return { problems: [{ file, line: parsed.lineOf([]), message: 'the inventory is empty' }] };
  if (isMapping(data) && 'plugin' in data) {
    return { problems: [{ file, line: parsed.lineOf(['plugin']), key: 'plugin', message: 'inventory plugin configurations are not supported; write the hosts out (e.g. `ansible-inventory --list --yaml`)' }] };
  }
  const locate = (path: KeyPath) => ({ line: parsed.lineOf(path), key: joinKey(path) });
  const problems = check(INVENTORY_SCHEMA, data, file, locate);
  if (problems.length) return { problems };

  const raw = new RawInventory(file);
  const readGroup = (name: string, def: unknown, path: KeyPath, depth: number): void => {
    raw.group(name, parsed.lineOf(path));
    if (!isMapping(def)) return;
    if (depth > MAX_DEPTH) {
      problems.push({ file, line: parsed.lineOf(path), key: joinKey(path), message: `groups nested deeper than ${MAX_DEPTH} levels (a YAML alias loop?)` });
      return;
    }
    for (const [section, body] of Object.entries(def)) {
      const entries = typeof body === 'string' ? { [body]: null } : isMapping(body) ? body : {};
      const at = [...path, section];
      if (section === 'vars') {
        readVars(raw.group(name).vars, entries, at);
      } else if (section === 'children') {
        for (const [child, childDef] of Object.entries(entries)) {
          const childPath = typeof body === 'string' ? at : [...at, child];
          if (child === 'all') {
            problems.push({ file, line: parsed.lineOf(childPath), key: joinKey(childPath), message: "'all' cannot be a child group" });
            continue;
          }
          readGroup(child, childDef, childPath, depth + 1);
          raw.addChild(name, child, parsed.lineOf(childPath));
        }
      } else if (section === 'hosts') {
        for (const [entry, hostVars] of Object.entries(entries)) {
          const hostPath = typeof body === 'string' ? at : [...at, entry];
          const line = parsed.lineOf(hostPath);
          const expanded = expandHostPattern(entry);
          if ('error' in expanded) {
            problems.push({ file, line, key: joinKey(hostPath), message: expanded.error });
            continue;
          }
          for (const host of expanded.hosts) {
            const h = raw.addHost(name, host, line, joinKey(hostPath));
            if (expanded.port !== undefined) setVar(h.vars, 'ansible_port', expanded.port, { file, line, key: joinKey(hostPath) });
            if (isMapping(hostVars)) readVars(h.vars, hostVars, hostPath);
          }
        }
      }
    }
  };
  const readVars = (layer: VarLayer, vars: Mapping, path: KeyPath): void => {
    for (const [k, v] of Object.entries(vars)) {
      setVar(layer, k, v, { file, line: parsed.lineOf([...path, k]), key: joinKey([...path, k]) });
    }
  };

  for (const [name, def] of Object.entries(data as Mapping)) readGroup(name, def, [name], 0);
  return problems.length ? { problems } : { raw, problems };
}

function isMapping(v: unknown): v is Mapping {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
