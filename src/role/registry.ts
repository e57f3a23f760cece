/**
 * Finds roles by name: `<dir>/<name>/index.ts` in the role search path (the playbook's sibling `roles/`
 * folder first, then the project's `roles/`), and loads them (the compiled twin when running from dist/).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleFor, projectRoot } from '../core/project.js';
import type { RoleDefinition } from './define.js';

export class RoleRegistry {
  private cache = new Map<string, RoleDefinition>();
  constructor(readonly searchPath: string[] = [join(projectRoot, 'roles')]) {}

  /** the registry for a playbook: its sibling roles/ folder, then the project's */
  static forPlaybook(playbookFile: string): RoleRegistry {
    const sibling = resolve(playbookFile, '..', '..', 'roles');
    const dirs = [sibling, join(projectRoot, 'roles')].filter((d, i, a) => a.indexOf(d) === i);
    return new RoleRegistry(dirs);
  }

  /** role names available in the search path, sorted */
  names(): string[] {
    const out = new Set<string>(this.cache.keys());
    for (const dir of this.searchPath) {
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && existsSync(join(dir, e.name, 'index.ts'))) out.add(e.name);
      }
    }
    return [...out].sort();
  }

  has(name: string): boolean {
    return this.cache.has(name) || this.searchPath.some((d) => existsSync(join(d, name, 'index.ts')));
  }

  /** register a role object directly (tests, embedded use) */
  add(role: RoleDefinition): void {
    this.cache.set(role.name, role);
  }

  async load(name: string): Promise<RoleDefinition> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const dir = this.searchPath.find((d) => existsSync(join(d, name, 'index.ts')));
    if (!dir) throw new Error(`role ${name} not found in ${this.searchPath.join(', ')}`);
    const mod = await import(pathToFileURL(moduleFor(join(dir, name, 'index.ts'))).href);
    const role = mod.default as RoleDefinition;
    if (!role || role.name !== name) throw new Error(`roles/${name}/index.ts must default-export defineRole({ name: '${name}', ... })`);
    this.cache.set(name, role);
    return role;
  }
}
