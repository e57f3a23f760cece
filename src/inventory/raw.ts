/**
 * What an inventory file says, before groups are reconciled (see ./build.ts): groups with their direct
 * hosts, children and inline vars; hosts with their inline vars; the line where each was written.
 * The YAML and INI readers both fill one of these.
 */
import type { VarLayer, VarOrigin } from './types.js';

export interface RawGroup {
  name: string;
  /** line where the group was first written */
  line?: number;
  children: string[];
  /** line of each `children` entry, for cycle reports */
  childLines: Map<string, number | undefined>;
  hosts: string[];
  vars: VarLayer;
}

export interface RawHost {
  name: string;
  line?: number;
  /** key path of its first entry (`all.children.kafka.hosts.vm1`, INI `kafka.vm1`) */
  key?: string;
  vars: VarLayer;
}

export class RawInventory {
  readonly groups = new Map<string, RawGroup>();
  /** in order of first appearance */
  readonly hosts = new Map<string, RawHost>();

  constructor(readonly file: string) {
    this.group('all');
    this.group('ungrouped');
  }

  /** The group called `name`, created if new. */
  group(name: string, line?: number): RawGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, line, children: [], childLines: new Map(), hosts: [], vars: emptyLayer(`group ${name}`) };
      this.groups.set(name, g);
    } else if (g.line === undefined) {
      g.line = line;
    }
    return g;
  }

  /** Makes `host` a direct member of `group` (both created if new). */
  addHost(group: string, host: string, line?: number, key?: string): RawHost {
    let h = this.hosts.get(host);
    if (!h) {
      h = { name: host, line, key, vars: emptyLayer(`host ${host}`) };
      this.hosts.set(host, h);
    }
    const g = this.group(group);
    if (!g.hosts.includes(host)) g.hosts.push(host);
    return h;
  }

  addChild(parent: string, child: string, line?: number): void {
    const p = this.group(parent);
    this.group(child, line);
    if (!p.children.includes(child)) {
      p.children.push(child);
      p.childLines.set(child, line);
    }
  }
}

export function emptyLayer(label: string, kind: VarLayer['kind'] = 'inline'): VarLayer {
  return { label, values: {}, origins: {}, kind };
}

/** Sets one variable in a layer; a later definition of the same key wins, as in Ansible. */
export function setVar(layer: VarLayer, key: string, value: unknown, origin: VarOrigin): void {
  layer.values[key] = value;
  layer.origins[key] = origin;
}
