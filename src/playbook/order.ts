/** Topological ordering of a phase's roles by `dependsOn`, stable in the order the playbook lists them. */

export interface RoleNode {
  name: string;
  dependsOn: string[];
}

export class DependencyCycle extends Error {
  constructor(readonly cycle: string[]) {
    super(`role dependency cycle: ${cycle.join(' -> ')}`);
  }
}

/** Order `roles` so that each comes after those of its dependencies that are in the same list. */
export function orderRoles<T extends RoleNode>(roles: T[]): T[] {
  const byName = new Map(roles.map((r) => [r.name, r]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: T[] = [];
  const visit = (r: T, path: string[]) => {
    const s = state.get(r.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new DependencyCycle([...path.slice(path.indexOf(r.name)), r.name]);
    state.set(r.name, 'visiting');
    for (const d of r.dependsOn) {
      const dep = byName.get(d);
      if (dep) visit(dep, [...path, r.name]);
    }
    state.set(r.name, 'done');
    out.push(r);
  };
  for (const r of roles) visit(r, []);
  return out;
}

/** Find any cycle among all known roles (across phases), following dependsOn through `lookup`. */
export function findCycle(start: string, lookup: (name: string) => string[] | undefined): string[] | null {
  const stack: string[] = [];
  const seen = new Set<string>();
  const walk = (n: string): string[] | null => {
    const i = stack.indexOf(n);
    if (i >= 0) return [...stack.slice(i), n];
    if (seen.has(n)) return null;
    seen.add(n);
    stack.push(n);
    for (const d of lookup(n) ?? []) {
      const c = walk(d);
      if (c) return c;
    }
    stack.pop();
    return null;
  };
  return walk(start);
}
