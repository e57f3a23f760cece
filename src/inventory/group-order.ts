/**
 * The order in which Ansible applies group variables: by depth (longest path from `all`, so parents
 * before children), then by `ansible_group_priority` (default 1, set in the inventory file), then by name.
 */
import type { GroupDef, Inventory } from './types.js';

/** Depth of every group: `all` is 0, its children 1, a child is always deeper than each of its parents. */
export function groupDepths(groups: Map<string, GroupDef>): Map<string, number> {
  const parents = new Map<string, string[]>();
  for (const g of groups.values()) {
    for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  }
  const depths = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    const known = depths.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0; // cycles are rejected at load time; do not loop here
    visiting.add(name);
    const ps = parents.get(name) ?? [];
    const d = name === 'all' ? 0 : ps.length ? Math.max(...ps.map(depth)) + 1 : 1;
    visiting.delete(name);
    depths.set(name, d);
    return d;
  };
  for (const name of groups.keys()) depth(name);
  return depths;
}

/** `ansible_group_priority` from the group's inline vars (Ansible ignores it in group_vars files). */
export function groupPriority(g: GroupDef | undefined): number {
  for (const layer of g?.vars ?? []) {
    if ((layer.kind ?? 'inline') !== 'inline') continue;
    const p = layer.values.ansible_group_priority;
    if (typeof p === 'number' && Number.isInteger(p)) return p;
  }
  return 1;
}

/** Sorts group names in variable precedence order (lowest first); `all` comes first. */
export function sortGroups(inv: Pick<Inventory, 'groups'>, names: string[], depths = groupDepths(inv.groups)): string[] {
  const key = (n: string) => ({ d: n === 'all' ? 0 : (depths.get(n) ?? 1), p: groupPriority(inv.groups.get(n)) });
  return [...names].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka.d - kb.d || ka.p - kb.p || (a < b ? -1 : a > b ? 1 : 0);
  });
}
