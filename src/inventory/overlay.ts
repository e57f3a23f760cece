/**
 * The simulator's overlay file, `{ hosts: { <host>: { <var>: value } } }`: each host's vars become one more
 * host-level layer, labelled `sim overlay`, that wins over the inventory's own host vars.
 * A host that the inventory does not have is an error.
 */
import type { InputProblem } from '../core/errors.js';
import { emptyLayer, setVar } from './raw.js';
import { OVERLAY_SCHEMA, check, joinKey } from './schema.js';
import type { Inventory } from './types.js';
import { readYamlFile } from './yaml-file.js';

export const OVERLAY_LABEL = 'sim overlay';

/** Adds the overlay's layers to `inv`'s hosts; returns the problems found (nothing is added if any). */
export function applyOverlay(inv: Inventory, overlayPath: string): InputProblem[] {
  const parsed = readYamlFile(overlayPath);
  const { file, data } = parsed;
  if (parsed.problems.length) return parsed.problems;
  const locate = (p: Array<string | number>) => ({ line: parsed.lineOf(p), key: joinKey(p) });
  const problems = check(OVERLAY_SCHEMA, data ?? {}, file, locate);
  if (problems.length) return problems;
  const hosts = (data as { hosts: Record<string, Record<string, unknown> | null> }).hosts;
  for (const name of Object.keys(hosts)) {
    if (!inv.hosts.has(name)) {
      problems.push({ ...locate(['hosts', name]), file, message: `host '${name}' is not in the inventory ${inv.source}` });
    }
  }
  if (problems.length) return problems;
  for (const [name, vars] of Object.entries(hosts)) {
    const layer = emptyLayer(OVERLAY_LABEL, 'overlay');
    for (const [k, v] of Object.entries(vars ?? {})) setVar(layer, k, v, { file, line: parsed.lineOf(['hosts', name, k]), key: joinKey(['hosts', name, k]) });
    inv.hosts.get(name)!.vars.push(layer);
  }
  return [];
}
