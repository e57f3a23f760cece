/**
 * Playbooks: a YAML list of phases. A phase has a name, a host pattern, roles, and optionally
 * `serial` (rolling batches), `max_fail_percentage` and `tags`.
 *
 *   - name: os-preparation
 *     hosts: all
 *     roles: [common]
 *   - name: coordination
 *     hosts: control_plane:&etcd
 *     roles: [etcd, { role: haproxy, tags: [lb] }]
 *     serial: 1
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, type InputProblem } from '../core/errors.js';
import { readYamlFile } from '../inventory/yaml-file.js';

export interface PhaseRole {
  name: string;
  tags: string[];
}

export interface Phase {
  name: string;
  index: number;
  hosts: string;
  roles: PhaseRole[];
  serial?: number | string;
  maxFailPercentage?: number;
  tags: string[];
  line?: number;
}

export interface Playbook {
  file: string;
  phases: Phase[];
}

/** `site` -> `<root>/playbooks/site.yml`; a path is taken as it is. */
export function resolvePlaybookPath(nameOrPath: string, root: string): string {
  const candidates = [nameOrPath, `${nameOrPath}.yml`, join(root, 'playbooks', `${nameOrPath}.yml`), join(root, 'playbooks', nameOrPath)];
  for (const c of candidates) if (existsSync(c) && !c.endsWith('/')) return resolve(c);
  throw new InputError([{ file: nameOrPath, message: `playbook not found (tried ${candidates.join(', ')})` }]);
}

const PHASE_KEYS = new Set(['name', 'hosts', 'roles', 'serial', 'max_fail_percentage', 'tags']);

export function loadPlaybook(file: string): Playbook {
  // read as inventories are (src/inventory/yaml-file.ts): YAML 1.1 as Ansible, anchors, aliases and `<<` merges
  // resolved (an alias bomb refused), every syntax error with its line
  const parsed = readYamlFile(file, file);
  const problems: InputProblem[] = [...parsed.problems];
  if (problems.length) throw new InputError(problems);
  const root = parsed.data;
  if (!Array.isArray(root)) throw new InputError([{ file, line: parsed.lineOf([]) ?? 1, message: 'a playbook is a YAML list of phases (`- name: ..., hosts: ..., roles: [...]`)' }]);
  const phases: Phase[] = [];
  root.forEach((item: unknown, i) => {
    const key = `[${i}]`;
    const line = parsed.lineOf([i]);
    const at = (k: string | number, ...more: Array<string | number>) => parsed.lineOf([i, k, ...more]) ?? line;
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push({ file, line, key, message: 'each phase is a mapping with name, hosts and roles' });
      return;
    }
    const raw = item as Record<string, unknown>;
    for (const k of Object.keys(raw)) {
      if (!PHASE_KEYS.has(k)) problems.push({ file, line: at(k), key: `${key}.${k}`, message: `unknown phase key (expected one of ${[...PHASE_KEYS].join(', ')})` });
    }
    const name = raw.name;
    if (typeof name !== 'string' || !name) problems.push({ file, line: 'name' in raw ? at('name') : line, key: `${key}.name`, message: 'a phase needs a name (string)' });
    if (typeof raw.hosts !== 'string' || !raw.hosts) problems.push({ file, line: at('hosts'), key: `${key}.hosts`, message: 'expected a host pattern string, e.g. `all` or `kafka:&control_plane`' });
    if (!Array.isArray(raw.roles)) problems.push({ file, line: at('roles'), key: `${key}.roles`, message: 'expected a list of role names' });
    const roles: PhaseRole[] = [];
    for (const [j, r] of (Array.isArray(raw.roles) ? raw.roles : []).entries()) {
      if (typeof r === 'string') roles.push({ name: r, tags: [] });
      else if (r && typeof r === 'object' && typeof (r as any).role === 'string') roles.push({ name: (r as any).role, tags: toTags((r as any).tags) });
      else problems.push({ file, line: at('roles', j), key: `${key}.roles[${j}]`, message: 'expected a role name or { role: NAME, tags: [...] }' });
    }
    if (raw.serial !== undefined && !(Number.isInteger(raw.serial) && (raw.serial as number) > 0) && !(typeof raw.serial === 'string' && /^\d+%$/.test(raw.serial)))
      problems.push({ file, line: at('serial'), key: `${key}.serial`, message: 'expected a positive integer or a percentage like "30%"' });
    const mfp = raw.max_fail_percentage;
    if (mfp !== undefined && !(typeof mfp === 'number' && mfp >= 0 && mfp <= 100))
      problems.push({ file, line: at('max_fail_percentage'), key: `${key}.max_fail_percentage`, message: 'expected a number from 0 to 100' });
    phases.push({
      name: String(name ?? `phase ${i + 1}`),
      index: i + 1,
      hosts: String(raw.hosts ?? ''),
      roles,
      serial: raw.serial as number | string | undefined,
      maxFailPercentage: mfp as number | undefined,
      tags: toTags(raw.tags),
      line,
    });
  });
  const seen = new Map<string, number>();
  for (const p of phases) {
    if (seen.has(p.name)) problems.push({ file, line: p.line, key: `[${p.index - 1}].name`, message: `duplicate phase name (also phase ${seen.get(p.name)})` });
    seen.set(p.name, p.index);
  }
  if (problems.length) throw new InputError(problems);
  return { file, phases };
}

function toTags(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.map(String) : [];
}
