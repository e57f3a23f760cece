/**
 * Ansible's INI inventory format, read line by line as Ansible's ini plugin does: lines before any section
 * belong to `ungrouped`; `[g]` lists hosts (`host[01:03]:2222 key=value ...`), `[g:vars]` sets group vars
 * (`key=value`), `[g:children]` lists child groups, which must be declared somewhere in the file.
 * Every problem is collected (with its line) rather than stopping at the first.
 */
import type { InputProblem } from '../core/errors.js';
import { expandHostPattern } from './host-pattern.js';
import { parseIniValue, shlexSplit } from './ini-value.js';
import { RawInventory, setVar } from './raw.js';
import { GROUP_NAME_PATTERN, VARS_SCHEMA, check } from './schema.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const CHILD = /^([^:\]\s]+)\s*(?:[#;].*)?$/;
const GROUP_NAME = new RegExp(GROUP_NAME_PATTERN);

export function readIniInventory(text: string, file: string): { raw?: RawInventory; problems: InputProblem[] } {
  const raw = new RawInventory(file);
  const problems: InputProblem[] = [];
  const problem = (line: number, message: string, key?: string) => problems.push({ file, line, key, message });
  /** groups declared by a [g] or [g:children] header (all and ungrouped always exist) */
  const declared = new Set(['all', 'ungrouped']);
  const pendingVars = new Map<string, number>();
  const pendingChildren = new Map<string, Array<{ parent: string; line: number }>>();

  let group = 'ungrouped';
  let state = 'hosts';
  const lines = text.split(/\r?\n/);
  for (let n = 1; n <= lines.length; n++) {
    const line = lines[n - 1].trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;

    const section = SECTION.exec(line);
    if (section) {
      group = section[1];
      state = section[2] ?? 'hosts';
      if (!['hosts', 'vars', 'children'].includes(state)) {
        problem(n, `section [${group}:${state}] has an unknown type; expected [${group}], [${group}:vars] or [${group}:children]`, `${group}:${state}`);
        state = 'skip';
        continue;
      }
      if (!GROUP_NAME.test(group)) problem(n, `invalid group name '${group}'; expected a name matching ${GROUP_NAME_PATTERN}`, group);
      const known = raw.groups.has(group);
      raw.group(group, n);
      if (state === 'vars') {
        if (!known && !declared.has(group) && !pendingChildren.has(group)) pendingVars.set(group, n);
      } else {
        declared.add(group);
        pendingVars.delete(group);
        for (const p of pendingChildren.get(group) ?? []) raw.addChild(p.parent, group, p.line);
        pendingChildren.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      problem(n, `invalid section header '${line}'; expected [group], [group:vars] or [group:children] without spaces`, line.slice(1, -1).trim() || line);
      state = 'skip';
      continue;
    }

    if (state === 'hosts') readHostLine(line, n);
    else if (state === 'vars') readVarLine(line, n);
    else if (state === 'children') readChildLine(line, n);
  }

  for (const [g, line] of pendingVars) problem(line, `section [${g}:vars] is for group '${g}', which is not defined anywhere`, `${g}:vars`);
  for (const [child, refs] of pendingChildren) {
    for (const r of refs) problem(r.line, `section [${r.parent}:children] includes undefined group '${child}'`, child);
  }
  return problems.length ? { problems } : { raw, problems };

  function readHostLine(line: string, n: number): void {
    let words: string[];
    try {
      words = shlexSplit(line);
    } catch (e) {
      problem(n, `cannot parse host line: ${(e as Error).message}`, `${group}.${line.split(/\s+/)[0]}`);
      return;
    }
    if (words.length === 0) return;
    const expanded = expandHostPattern(words[0]);
    if ('error' in expanded) {
      problem(n, expanded.error, words[0]);
      return;
    }
    const vars: Record<string, unknown> = {};
    for (const w of words.slice(1)) {
      const eq = w.indexOf('=');
      if (eq <= 0) {
        problem(n, `expected key=value host variable, got '${w}'`, words[0]);
        return;
      }
      vars[w.slice(0, eq)] = parseIniValue(w.slice(eq + 1));
    }
    if (expanded.port !== undefined && !('ansible_port' in vars)) vars.ansible_port = expanded.port;
    const keyOf = (k: string) => `${group}.${words[0]}.${k}`;
    const before = problems.length;
    problems.push(...check(VARS_SCHEMA, vars, file, (path) => ({ line: n, key: keyOf(path.join('.')) })));
    if (problems.length > before) return;
    for (const host of expanded.hosts) {
      const h = raw.addHost(group, host, n, `${group}.${words[0]}`);
      for (const [k, v] of Object.entries(vars)) setVar(h.vars, k, v, { file, line: n, key: keyOf(k) });
    }
  }

  function readVarLine(line: string, n: number): void {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problem(n, `expected key=value, got '${line}'`, `${group}:vars`);
      return;
    }
    const k = line.slice(0, eq).trim();
    const v = parseIniValue(line.slice(eq + 1).trim());
    const key = `${group}:vars.${k}`;
    const before = problems.length;
    problems.push(...check(VARS_SCHEMA, { [k]: v }, file, (path) => ({ line: n, key: `${group}:vars.${path.join('.')}` })));
    if (problems.length === before) setVar(raw.group(group).vars, k, v, { file, line: n, key });
  }

  function readChildLine(line: string, n: number): void {
    const m = CHILD.exec(line);
    if (!m) {
      problem(n, `expected a group name, got '${line}'`, `${group}:children`);
      return;
    }
    const child = m[1];
    if (child === 'all') {
      problem(n, "'all' cannot be a child group", `${group}:children`);
    } else if (raw.groups.has(child)) {
      raw.addChild(group, child, n);
    } else {
      const refs = pendingChildren.get(child) ?? [];
      refs.push({ parent: group, line: n });
      pendingChildren.set(child, refs);
    }
  }
}
