/**
 * Shared pieces of the runner's unit tests: a minimal file operation (content only, gathered with `cat`) and
 * a RunPlan of test roles on local "hosts" (every host runs its scripts on this machine).
 */
import type { Operation, Plan } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';
import { defineRole, type RoleDefinition } from '../../src/role/define.js';
import type { RunPlan } from '../../src/playbook/plan.js';
import type { Inventory } from '../../src/inventory/types.js';

/** a file with exact content; `notify` restarts handlers when it changes */
export function fileOp(path: string, content: string, notify?: string[]): Operation<string | null> {
  return {
    kind: 'file',
    name: path,
    notify,
    fact: { key: `cat:${path}`, command: `cat ${q(path)}`, parse: (out, code) => (code === 0 ? out : null) },
    plan(cur): Plan {
      if (cur === content) return { status: 'ok', reason: 'content matches' };
      return { status: 'change', reason: cur === null ? 'file is missing' : 'content differs', script: `printf '%s' ${q(content)} > ${q(path)}` };
    },
  };
}

export interface TestPhase {
  name: string;
  /** the phase's one role, or a role made of these operations per host */
  role?: RoleDefinition;
  ops?: (host: string) => Operation<any>[];
  maxFail?: number;
}

/** A plan of `phases` on `hosts` (each host in `groups`, with `hostVars`). */
export function testPlan(hosts: string[], phases: TestPhase[], o: { groups?: string[]; hostVars?: Record<string, Record<string, unknown>> } = {}): RunPlan {
  const inventory: Inventory = { source: 'test', hosts: new Map(hosts.map((h) => [h, { name: h, vars: [], groups: o.groups ?? ['all'] }])), groups: new Map() };
  return {
    playbook: { file: 'test.yml', phases: [] },
    inventory,
    phases: phases.map((p, i) => {
      const def = p.role ?? defineRole({ name: `r${i}`, description: 'test', vars: {}, operations: ({ host }) => p.ops!(host.name) });
      return {
        phase: { name: p.name, index: i + 1, hosts: 'all', roles: [], tags: [], maxFailPercentage: p.maxFail },
        hosts: hosts.map((h) => ({ name: h, roles: [{ name: def.name, def, vars: {} }] })),
      };
    }),
    hostVars: new Map(hosts.map((h) => [h, o.hostVars?.[h] ?? {}])),
    hostRoles: new Map(),
    origins: new Map(),
    connections: new Map(),
    roles: new Map(),
    secretValues: new Set(),
    secretKeys: new Set(),
    warnings: [],
  };
}
