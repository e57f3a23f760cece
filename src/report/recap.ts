/** The recap table printed at the end of every run. */
import type { RunEvent } from './events.js';
import { notAutomatedLines } from '../playbook/checks.js';

type Recap = Extract<RunEvent, { type: 'recap' }>;

export function recapTable(e: Recap, opts: { profile?: boolean } = {}): string {
  const rows = Object.entries(e.hosts);
  const w = Math.max(4, ...rows.map(([h]) => h.length));
  const lines = [`RECAP ${' '.repeat(Math.max(0, w - 5))}     ok  changed  skipped  failed  unreachable  elapsed`];
  for (const [h, c] of rows) {
    lines.push(
      `${h.padEnd(w)}  ${String(c.ok).padStart(6)}  ${String(c.changed).padStart(7)}  ${String(c.skipped).padStart(7)}  ${String(c.failed).padStart(6)}  ${String(c.unreachable).padStart(11)}  ${(c.elapsedMs / 1000).toFixed(2).padStart(6)}s`,
    );
  }
  lines.push(`total ${(e.elapsedMs / 1000).toFixed(2)}s, exit ${e.exitCode}`);
  if (e.resumeFrom) lines.push(`resume after fixing with: --from-phase ${JSON.stringify(e.resumeFrom)}`);
  lines.push(...(e.warnings ?? []).map((w) => `warning: ${w}`), ...notAutomatedLines(e.notAutomated ?? []));
  if (opts.profile && e.profile) {
    lines.push('profile (summed over hosts, ms): ' + Object.entries(e.profile).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' '));
  }
  return lines.join('\n');
}
