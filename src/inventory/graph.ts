/**
 * The inventory as a tree, like `ansible-inventory --graph`:
 *
 *   @all:
 *     |--@kafka:
 *     |  |--vm1
 *     |--@ungrouped:
 *
 * Child groups and hosts sorted by name, as Ansible prints them; hosts directly under `all` are not listed
 * there (they appear under `ungrouped` or their groups). Start from another group with `root`.
 */
import type { Inventory } from './types.js';

export function inventoryGraph(inv: Inventory, root = 'all'): string {
  const lines: string[] = [];
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const line = (text: string, depth: number) => lines.push(depth ? `${'  |'.repeat(depth)}--${text}` : text);
  const walk = (name: string, depth: number, path: string[]): void => {
    line(`@${name}:`, depth);
    const g = inv.groups.get(name);
    if (!g || path.includes(name)) return;
    for (const child of [...g.children].sort(byName)) walk(child, depth + 1, [...path, name]);
    if (name !== 'all') for (const h of [...g.hosts].sort(byName)) line(h, depth + 1);
  };
  walk(root, 0, []);
  return lines.join('\n');
}
