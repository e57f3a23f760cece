/** `orch plan PLAYBOOK --inventory X`: the offline plan, no connection. */
import { stringify } from 'yaml';
import { loadPlan, type PlanArgs } from '../context.js';
import type { RunPlan } from '../../playbook/plan.js';
import { makeMasker } from '../../playbook/secrets.js';
import { capacityLines, notAutomatedLines } from '../../playbook/checks.js';

export interface PlanCmdArgs extends PlanArgs {
  vars?: string;
  json: boolean;
}

export async function planCommand(a: PlanCmdArgs): Promise<number> {
  const plan = await loadPlan(a);
  const mask = makeMasker(plan.secretValues);
  for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
  if (a.json) {
    process.stdout.write(mask(JSON.stringify(planJson(plan), null, 2)) + '\n');
    return 0;
  }
  process.stdout.write(mask(renderPlan(plan, a.vars)) + '\n');
  return 0;
}

export function planJson(plan: RunPlan) {
  return {
    playbook: plan.playbook.file,
    inventory: plan.inventory.source,
    phases: plan.phases.map((p) => ({
      index: p.phase.index,
      name: p.phase.name,
      hosts: p.phase.hosts,
      serial: p.phase.serial,
      hostsInOrder: p.hosts.map((h) => ({ host: h.name, roles: h.roles.map((r) => r.name) })),
    })),
    declared: Object.fromEntries([...(plan.declared ?? new Map()).values()].filter((d) => d.roles.length).map((d) => [d.host, d])),
    capacity: plan.capacity ?? [],
    quorums: plan.quorums ?? [],
    notAutomated: plan.notAutomated ?? [],
  };
}

export function renderPlan(plan: RunPlan, varsHost?: string): string {
  const lines: string[] = [`playbook  ${plan.playbook.file}`, `inventory ${plan.inventory.source} (${plan.inventory.hosts.size} hosts)`, ''];
  for (const p of plan.phases) {
    const extra = [p.phase.serial !== undefined ? `serial ${p.phase.serial}` : '', p.phase.maxFailPercentage !== undefined ? `max_fail ${p.phase.maxFailPercentage}%` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`phase ${p.phase.index} ${p.phase.name}  hosts: ${p.phase.hosts} -> ${p.hosts.length} host(s)${extra ? `  (${extra})` : ''}`);
    if (p.hosts.length === 0) lines.push('  (no host)');
    // hosts with the same role list are shown on one line
    const byRoles = new Map<string, string[]>();
    for (const h of p.hosts) {
      const k = h.roles.map((r) => r.name).join(' -> ') || '(no role selected)';
      byRoles.set(k, [...(byRoles.get(k) ?? []), h.name]);
    }
    for (const [roles, hosts] of byRoles) lines.push(`  ${hosts.join(', ')}: ${roles}`);
  }
  const cap = capacityLines(plan.capacity ?? []);
  if (cap.length) lines.push('', ...cap);
  const quorum = (plan.quorums ?? []).map((g) => `  ${g.group} (${g.kind}): ${g.members.join(', ')}, survives the loss of ${g.tolerates}${g.problem ? ` (${g.problem})` : ''}`);
  if (quorum.length) lines.push('', 'quorum groups', ...quorum);
  const todo = notAutomatedLines(plan.notAutomated ?? []);
  if (todo.length) lines.push('', ...todo);
  if (varsHost) {
    const vals = plan.hostVars.get(varsHost);
    if (!vals) throw new Error(`--vars ${varsHost}: no such host`);
    const shown: Record<string, unknown> = {};
    const origins = plan.origins.get(varsHost) ?? {};
    for (const k of Object.keys(vals).sort()) shown[k] = plan.secretKeys.has(k) ? '***' : vals[k];
    lines.push('', `variables of ${varsHost} (value  # where it comes from):`);
    for (const [k, v] of Object.entries(shown)) {
      const o = origins[k];
      const where = o ? `${o.file}${o.line ? ':' + o.line : ''}` : 'built-in';
      lines.push(`  ${stringify({ [k]: v }, { lineWidth: 0 }).trimEnd().replace(/\n/g, '\n  ')}  # ${where}`);
    }
  }
  return lines.join('\n');
}
