/** Plain line output (not a TTY, CI, or --plain): one line per change, failure and phase; a recap table. */
import type { RunEvent } from './events.js';
import { recapTable } from './recap.js';
import { unifiedDiff } from './diff.js';

export interface PlainOptions {
  write: (s: string) => void;
  mask: (s: string) => string;
  /** also print ok/skipped operations */
  verbose?: boolean;
  diff?: boolean;
}

export function plainReporter(o: PlainOptions): (e: RunEvent) => void {
  const w = (s: string) => o.write(o.mask(s) + '\n');
  return (e) => {
    switch (e.type) {
      case 'run-start':
        w(`${e.check ? 'CHECK' : 'RUN'} ${e.playbook} on ${e.hosts.length} host(s): ${e.phases.length} phase(s)`);
        break;
      case 'phase-start':
        w(`\n== phase ${e.index} ${e.phase} [${e.hosts.join(', ')}]`);
        break;
      case 'op-result': {
        const r = e.result;
        if (r.status === 'ok' && !o.verbose) break;
        if (r.status === 'skipped' && !o.verbose && !/cannot|not /.test(r.reason)) break;
        w(`${e.host} ${pad(r.status)} ${r.role ? r.role + ' ' : ''}${r.kind} ${r.name}: ${r.reason}`);
        if (r.status === 'failed' && r.output) w(indent(r.output));
        if (o.diff && r.diff && r.status === 'changed') w(r.diff.masked ? `  (content of ${r.diff.path} is secret: not shown)` : indent(unifiedDiff(r.diff)));
        break;
      }
      case 'handler':
        w(`${e.host} ${pad(e.status)} handler ${e.name}: ${e.reason}`);
        break;
      case 'host-failed':
        w(`${e.host} ${e.unreachable ? 'UNREACHABLE' : 'FAILED'} in phase ${e.phase}: ${e.error}`);
        break;
      case 'host-end':
        if (o.verbose) w(`${e.host} done phase ${e.phase} in ${(e.elapsedMs / 1000).toFixed(2)}s: ok=${e.counts.ok} changed=${e.counts.changed} skipped=${e.counts.skipped}`);
        break;
      case 'run-aborted':
        w(`ABORTED in phase ${e.phase}: ${e.reason}`);
        break;
      case 'recap':
        w('\n' + recapTable(e));
        break;
      default:
        break;
    }
  };
}

function pad(s: string): string {
  return s.toUpperCase().padEnd(8);
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
