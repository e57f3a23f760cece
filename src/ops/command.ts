/**
 * `command`: run a shell command, guarded like Ansible's `creates`/`removes` and Chef's `not_if`/`only_if`.
 * The guards are evaluated in the fact (as root, so they must be read-only checks):
 *   creates  - ok when this path exists (the command's result is already there)
 *   unless   - ok when this command succeeds
 *   onlyIf   - skip when this command fails
 * Without a guard the command always runs, and the reason says so.
 */
import type { Fact, Operation, Plan } from './types.js';
import { q } from './quote.js';
import { assertAbsolute, tagged } from './stat.js';
import { sha256 } from './write.js';

export interface CommandOptions {
  /** what it does, one line (shown as the op's name) */
  name: string;
  /** POSIX sh, run as root under `set -e` */
  run: string;
  creates?: string;
  unless?: string;
  onlyIf?: string;
  notify?: string[];
}

export interface CommandFact {
  /** the `creates` path exists */
  created?: boolean;
  /** exit code of `unless` */
  unless?: number;
  /** exit code of `onlyIf` */
  onlyIf?: number;
}

function guard(tag: string, cmd: string): string {
  // a subshell: the guard may not leak variables or `exit` the fact script
  return `(\n${cmd}\n) >/dev/null 2>&1 </dev/null\necho "${tag}|$?"`;
}

export function command(o: CommandOptions): Operation<CommandFact | null> {
  if (o.creates !== undefined) assertAbsolute(o.creates, 'command creates');
  const parts: string[] = [];
  if (o.creates !== undefined) parts.push(`if [ -e ${q(o.creates)} ] || [ -L ${q(o.creates)} ]; then echo 'C|1'; else echo 'C|0'; fi`);
  if (o.unless !== undefined) parts.push(guard('U', o.unless));
  if (o.onlyIf !== undefined) parts.push(guard('O', o.onlyIf));
  const fact: Fact<CommandFact> | null = parts.length
    ? {
        key: `command:${sha256(parts.join('\n'))}`,
        command: parts.join('\n'),
        parse(stdout) {
          const out: CommandFact = {};
          const c = tagged(stdout, 'C')[0];
          const u = tagged(stdout, 'U')[0];
          const i = tagged(stdout, 'O')[0];
          if (o.creates !== undefined) out.created = c === '1';
          // a missing line (the fact script was cut short) counts as a failed guard
          if (o.unless !== undefined) out.unless = u === undefined ? 255 : Number(u);
          if (o.onlyIf !== undefined) out.onlyIf = i === undefined ? 255 : Number(i);
          return out;
        },
      }
    : null;
  return {
    kind: 'command',
    name: o.name,
    fact,
    notify: o.notify,
    plan(f): Plan {
      if (!f) return { status: 'change', reason: 'no guard (creates/unless/onlyIf): always runs', script: o.run };
      if (f.created) return { status: 'ok', reason: `${o.creates} exists` };
      if (f.unless === 0) return { status: 'ok', reason: 'unless-command succeeded' };
      if (f.onlyIf !== undefined && f.onlyIf !== 0) return { status: 'skip', reason: `onlyIf-command failed (exit ${f.onlyIf})` };
      const why: string[] = [];
      if (o.creates !== undefined) why.push(`${o.creates} absent`);
      if (f.unless !== undefined) why.push(`unless-command failed (exit ${f.unless})`);
      if (f.onlyIf !== undefined) why.push('onlyIf-command succeeded');
      return { status: 'change', reason: why.join(', '), script: o.run };
    },
  };
}
