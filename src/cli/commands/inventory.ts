/** `orch inventory list|show|validate|graph`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadInv, loadPlan, type CommonArgs } from '../context.js';
import { resolveHostVars } from '../../inventory/vars.js';
import { inventoryGraph } from '../../inventory/graph.js';
import { parseExtraVars } from '../../inventory/extra-vars.js';
import { projectRoot } from '../../core/project.js';

const SECRET_NAME = /pass(word)?|secret|token|private_key$/i;

export function inventoryList(a: CommonArgs): number {
  const inv = loadInv(a);
  for (const [name, h] of inv.hosts) {
    const v = resolveHostVars(inv, name).values;
    const addr = v.ansible_host ?? v.host ?? name;
    process.stdout.write(`${name.padEnd(24)} ${String(addr).padEnd(18)} ${h.groups.filter((g) => g !== 'all').join(',')}\n`);
  }
  return 0;
}

export function inventoryShow(a: CommonArgs & { host: string }): number {
  const inv = loadInv(a);
  if (!inv.hosts.has(a.host)) {
    process.stderr.write(`no host ${a.host} in ${inv.source} (hosts: ${[...inv.hosts.keys()].join(', ')})\n`);
    return 4;
  }
  const r = resolveHostVars(inv, a.host, { extraVars: parseExtraVars(a.extraVars ?? [], process.cwd()) });
  process.stdout.write(`${a.host}: groups ${inv.hosts.get(a.host)!.groups.join(', ')}\n`);
  for (const k of Object.keys(r.values).sort()) {
    const o = r.origins[k];
    const val = SECRET_NAME.test(k) ? '***' : r.values[k];
    process.stdout.write(`  ${stringify({ [k]: val }, { lineWidth: 0 }).trimEnd().replace(/\n/g, '\n  ')}  # ${o ? `${o.file}${o.line ? ':' + o.line : ''}` : 'built-in'}\n`);
  }
  return 0;
}

/** Structure, and, when playbooks/site.yml exists, every role variable of every host against its schema. */
export async function inventoryValidate(a: CommonArgs & { playbook?: string }): Promise<number> {
  const inv = loadInv(a);
  const pb = a.playbook ?? (existsSync(join(projectRoot, 'playbooks', 'site.yml')) ? 'site' : undefined);
  if (pb) await loadPlan({ ...a, playbook: pb });
  process.stdout.write(`${inv.source}: ${inv.hosts.size} hosts, ${inv.groups.size} groups: valid${pb ? ` for playbook ${pb}` : ''}\n`);
  return 0;
}

export function inventoryGraphCmd(a: CommonArgs): number {
  process.stdout.write(inventoryGraph(loadInv(a)) + '\n');
  return 0;
}
