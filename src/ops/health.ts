/**
 * `healthCheck`: a command that must succeed once the host's changes are applied (a quorum has a leader, every broker
 * registered), retried every `intervalS` until `timeoutS`, failing the host with the command's last output.
 * Checks that cost seconds (a JVM CLI) run only when another operation of the host changed something in the phase
 * (`always: false`, the default): a converged rerun reports them skipped and stays one fast round trip.
 * With `always: true` the command runs in the facts script too: healthy is ok, unhealthy waits in the apply script.
 */
import type { Operation, Plan } from './types.js';

export interface HealthCheckOptions {
  /** what is checked, one line: `KRaft quorum has a leader and 3 voters` */
  name: string;
  /** POSIX sh exiting 0 when healthy */
  command: string;
  /** default 120 */
  timeoutS?: number;
  /** default 2 */
  intervalS?: number;
  /** also check on runs where nothing changed (default false) */
  always?: boolean;
}

/** The apply-side loop: retry until healthy or the deadline, then fail with the last output. */
export function retryScript(command: string, timeoutS: number, intervalS: number, what: string): string {
  return [
    `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(timeoutS))} ))`,
    'while :; do',
    `  if out=$( ( ${command}\n) </dev/null 2>&1 ); then break; fi`,
    `  if [ "$(date +%s)" -ge "$deadline" ]; then printf '%s\\n' "$out" >&2; printf '%s\\n' ${shQuote(`orch: not healthy within ${timeoutS} s: ${what}`)} >&2; exit 1; fi`,
    `  sleep ${Math.max(0.2, intervalS)}`,
    'done',
  ].join('\n');
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function healthCheck(o: HealthCheckOptions): Operation<number | null> {
  const timeoutS = o.timeoutS ?? 120;
  const intervalS = o.intervalS ?? 2;
  const script = retryScript(o.command, timeoutS, intervalS, o.name);
  return {
    kind: 'health',
    name: o.name,
    fact: o.always ? { key: `health:${o.command}`, command: `( ${o.command}\n) >/dev/null 2>&1; echo "$?"`, parse: (out) => Number(out.trim()) } : null,
    plan(code): Plan {
      if (o.always) {
        if (code === 0) return { status: 'ok', reason: 'healthy' };
        return { status: 'change', reason: `not healthy yet: waiting up to ${timeoutS} s`, script };
      }
      return { status: 'change', reason: 'checked after this run\'s changes', script, onlyWithChanges: 'nothing changed on this host: not re-checked' };
    },
  };
}
