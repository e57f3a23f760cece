/**
 * Turns a RawInventory into the Inventory, reconciling groups as Ansible does: child-group cycles are
 * problems; groups without a parent become children of `all` (as does `ungrouped`); a host in no group but
 * `all` goes to `ungrouped` (and leaves it if it is in another group too); each host's `groups` lists every
 * group it is in, through children, `all` included, in variable precedence order.
 */
import type { InputProblem } from '../core/errors.js';
import { groupDepths, sortGroups } from './group-order.js';
import type { RawInventory } from './raw.js';
import type { GroupDef, HostDef, Inventory } from './types.js';

export function buildInventory(raw: RawInventory, source: string): { inventory: Inventory; problems: InputProblem[] } {
  const problems = findCycles(raw);

  const groups = new Map<string, GroupDef>();
  for (const g of raw.groups.values()) {
    groups.set(g.name, {
      name: g.name,
      children: [...g.children],
      hosts: [...g.hosts],
      vars: Object.keys(g.vars.values).length ? [g.vars] : [],
    });
  }
  const all = groups.get('all')!;
  const hasParent = new Set([...groups.values()].flatMap((g) => g.children));
  for (const name of groups.keys()) {
    if (name !== 'all' && !hasParent.has(name) && !all.children.includes(name)) all.children.push(name);
  }
  if (!all.children.includes('ungrouped')) all.children.push('ungrouped');

  const direct = new Map<string, Set<string>>();
  for (const g of groups.values()) for (const h of g.hosts) direct.set(h, (direct.get(h) ?? new Set()).add(g.name));
  const ungrouped = groups.get('ungrouped')!;
  for (const h of raw.hosts.keys()) {
    const mine = direct.get(h) ?? new Set<string>();
    const others = [...mine].filter((g) => g !== 'all' && g !== 'ungrouped');
    if (others.length && mine.has('ungrouped')) {
      ungrouped.hosts = ungrouped.hosts.filter((x) => x !== h);
      mine.delete('ungrouped');
    } else if (!others.length && !mine.has('ungrouped')) {
      ungrouped.hosts.push(h);
      mine.add('ungrouped');
    }
    direct.set(h, mine);
  }

  const parents = new Map<string, string[]>();
  for (const g of groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const ancestors = (name: string, acc: Set<string>): Set<string> => {
    if (acc.has(name)) return acc;
    acc.add(name);
    for (const p of parents.get(name) ?? []) ancestors(p, acc);
    return acc;
  };
  const inv: Inventory = { source, hosts: new Map(), groups };
  const depths = groupDepths(groups);
  for (const r of raw.hosts.values()) {
    const member = new Set<string>(['all']);
    for (const g of direct.get(r.name) ?? []) ancestors(g, member);
    const host: HostDef = {
      name: r.name,
      vars: Object.keys(r.vars.values).length ? [r.vars] : [],
      groups: sortGroups(inv, [...member], depths),
      origin: { file: raw.file, line: r.line, key: r.key ?? r.name },
    };
    inv.hosts.set(r.name, host);
  }
  return { inventory: inv, problems };
}

/** Every child-group cycle, once, reported at the line of the `children` entry that closes it. */
function findCycles(raw: RawInventory): InputProblem[] {
  const problems: InputProblem[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    const g = raw.groups.get(name);
    for (const child of g?.children ?? []) {
      const s = state.get(child);
      if (s === 'active') {
        const loop = [...stack.slice(stack.indexOf(child)), child];
        problems.push({
          file: raw.file,
          line: g?.childLines.get(child),
          key: `${name}.children.${child}`,
          message: `child groups form a cycle: ${loop.join(' -> ')}`,
        });
      } else if (s === undefined) {
        visit(child);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of raw.groups.keys()) if (!state.has(name)) visit(name);
  return problems;
}
