/**
 * A host's variables, merged by precedence, lowest first (each later layer wins):
 *
 *   1. role defaults                                   (extra.roleDefaults)
 *   2. `all` group vars from the inventory file
 *   3. other groups' vars from the inventory file      parents before children: by depth from `all`,
 *   4. group_vars/all files                            then ansible_group_priority, then name
 *   5. other groups' group_vars files                  (same group order)
 *   6. host vars from the inventory file
 *   7. host_vars/<host> files
 *   8. sim overlay
 *   9. `-e` extra vars                                 (extra.extraVars, in command-line order)
 *
 * So: role defaults < all < parent groups < child groups < host < sim overlay < -e. This is Ansible's
 * default order (VARIABLE_PRECEDENCE), including its one subtlety: every group var written in the
 * inventory file itself (2-3) loses to every group_vars file (4-5), e.g. `vars:` of a child group in
 * hosts.yml loses to group_vars/all.yml.
 *
 * Each top-level key is replaced whole (hash_behaviour=replace, no deep merge). Finally the magic values
 * `inventory_hostname`, `inventory_hostname_short` and `group_names` (the host's groups but `all`, sorted)
 * are set; they have no origin.
 */
import { InputError } from '../core/errors.js';
import { sortGroups } from './group-order.js';
import type { Inventory, VarLayer, VarOrigin } from './types.js';

export interface ResolvedVars {
  values: Record<string, unknown>;
  /** where each value came from (magic values have none) */
  origins: Record<string, VarOrigin>;
  /** labels of the layers applied, lowest precedence first */
  layers: string[];
}

export interface ExtraLayers {
  roleDefaults?: VarLayer[];
  extraVars?: VarLayer[];
}

export function resolveHostVars(inv: Inventory, hostName: string, extra: ExtraLayers = {}): ResolvedVars {
  const host = inv.hosts.get(hostName);
  if (!host) throw new InputError([{ file: inv.source, message: `no host '${hostName}' in the inventory` }]);
  const groups = sortGroups(inv, host.groups.includes('all') ? host.groups : ['all', ...host.groups]);
  const groupLayers = (kind: 'inline' | 'file', which: (g: string) => boolean) =>
    groups.filter(which).flatMap((g) => (inv.groups.get(g)?.vars ?? []).filter((l) => kindOf(l) === kind));
  const isAll = (g: string) => g === 'all';
  const notAll = (g: string) => g !== 'all';

  const ordered: VarLayer[] = [
    ...(extra.roleDefaults ?? []),
    ...groupLayers('inline', isAll),
    ...groupLayers('inline', notAll),
    ...groupLayers('file', isAll),
    ...groupLayers('file', notAll),
    ...host.vars.filter((l) => kindOf(l) === 'inline'),
    ...host.vars.filter((l) => kindOf(l) === 'file'),
    ...host.vars.filter((l) => kindOf(l) === 'overlay'),
    ...(extra.extraVars ?? []),
  ];

  const out: ResolvedVars = { values: {}, origins: {}, layers: [] };
  for (const layer of ordered) {
    out.layers.push(layer.label);
    for (const [k, v] of Object.entries(layer.values)) {
      out.values[k] = v;
      const origin = layer.origins[k];
      if (origin) out.origins[k] = origin;
      else delete out.origins[k];
    }
  }
  for (const k of ['inventory_hostname', 'inventory_hostname_short', 'group_names']) delete out.origins[k];
  out.values.inventory_hostname = hostName;
  out.values.inventory_hostname_short = hostName.split('.')[0];
  out.values.group_names = groups.filter(notAll).sort();
  return out;
}

function kindOf(l: VarLayer): 'inline' | 'file' | 'overlay' {
  return l.kind ?? 'inline';
}
