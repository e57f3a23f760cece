/**
 * Test harness for ops: runs fact commands and change scripts with `sh` on this machine, framed the
 * way the runner frames them (facts: `( cmd ) </dev/null 2>/dev/null`; changes: `( set -e; script ) </dev/null 2>&1`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Fact, Operation, Plan } from '../../src/ops/types.js';

const ENV = { ...process.env, LC_ALL: 'C' };

export function tmp(prefix = 'orch-ops-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function factScript(cmd: string): string {
  return `( ${cmd}\n) </dev/null 2>/dev/null`;
}

export function applyScript(script: string): string {
  return `( set -e\n${script}\n) </dev/null 2>&1`;
}

export interface Ran {
  code: number;
  stdout: string;
}

export function sh(script: string, env: NodeJS.ProcessEnv = ENV): Ran {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env });
  return { code: r.status ?? -1, stdout: r.stdout };
}

/** Async variant: needed when the script talks to a server in this process. */
export function shAsync(script: string, env: NodeJS.ProcessEnv = ENV): Promise<Ran> {
  return new Promise((resolve) => {
    const c = spawn('sh', ['-c', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => (out += d));
    c.on('close', (code) => resolve({ code: code ?? -1, stdout: out }));
  });
}

export function gather<F>(fact: Fact<F>): F {
  const r = sh(factScript(fact.command));
  return fact.parse(r.stdout, r.code);
}

export async function gatherAsync<F>(fact: Fact<F>): Promise<F> {
  const r = await shAsync(factScript(fact.command));
  return fact.parse(r.stdout, r.code);
}

export function planOf<F>(op: Operation<F>): Plan {
  return op.plan((op.fact ? gather(op.fact) : null) as F);
}

/** Apply a change plan's script; returns exit code and combined output. */
export function apply(plan: Plan, env?: NodeJS.ProcessEnv): Ran {
  if (plan.status !== 'change') throw new Error(`expected a change plan, got ${plan.status}: ${plan.reason}`);
  return sh(applyScript(plan.script), env);
}

/** Gather, plan (must be change), apply (must succeed), gather again: returns [first plan, second plan]. */
export function converge<F>(op: Operation<F>): [Plan, Plan] {
  const first = planOf(op);
  const r = apply(first);
  if (r.code !== 0) throw new Error(`apply failed (${r.code}): ${r.stdout}\n--- script:\n${first.status === 'change' ? first.script : ''}`);
  return [first, planOf(op)];
}
