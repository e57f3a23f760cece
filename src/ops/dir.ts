/**
 * `dir`: a directory with owner, group and mode. Created with `mkdir -p`; chown/chmod only what differs.
 * `recursive` applies owner and group to everything beneath too (the fact finds the first entry that
 * differs); the mode is applied to the directory itself only.
 */
import type { Fact, Operation, Plan } from './types.js';
import {
  assertAbsolute,
  assertOwnership,
  describeOwnership,
  failScript,
  matchPhrase,
  ownershipDiffs,
  ownershipScript,
  parseStat,
  statCommand,
  tagged,
  type Ownership,
  type PathStat,
} from './stat.js';
import { q } from './quote.js';

export interface DirOptions extends Ownership {
  path: string;
  /** also chown everything beneath (owner and group; not the mode) */
  recursive?: boolean;
}

export interface DirFact {
  stat: PathStat | null;
  /** recursive only: first entry beneath whose owner or group differs; '' none; null unknown (owner/group does not exist yet) */
  beneath?: string | null;
}

function beneathCommand(o: DirOptions): string {
  const tests: string[] = [];
  if (o.owner !== undefined) tests.push(`! -user ${q(o.owner)}`);
  if (o.group !== undefined) tests.push(`! -group ${q(o.group)}`);
  const p = q(o.path);
  // find fails (stderr discarded) when the user or group does not exist: report unknown
  return (
    `if [ -d ${p} ] && [ ! -L ${p} ]; then ` +
    `if r=$(find ${p} -mindepth 1 \\( ${tests.join(' -o ')} \\) -print -quit 2>/dev/null); ` +
    `then printf 'B|%s\\n' "$r"; else echo 'B?|'; fi; fi`
  );
}

export function dir(o: DirOptions): Operation<DirFact> {
  assertAbsolute(o.path);
  assertOwnership(o);
  const recursive = !!o.recursive && (o.owner !== undefined || o.group !== undefined);
  const command = recursive ? `${statCommand(o.path)}\n${beneathCommand(o)}` : statCommand(o.path);
  const fact: Fact<DirFact> = {
    key: recursive ? `dir:${o.path}:recursive:${o.owner ?? ''}:${o.group ?? ''}` : `stat:${o.path}`,
    command,
    parse(stdout) {
      const s = tagged(stdout, 'S')[0];
      const out: DirFact = { stat: s === undefined ? null : parseStat(s) };
      if (recursive) {
        const b = tagged(stdout, 'B')[0];
        out.beneath = b !== undefined ? b : tagged(stdout, 'B?').length ? null : '';
      }
      return out;
    },
    ...(recursive ? {} : { batch: { stat: o.path } }),
  };
  const p = q(o.path);
  return {
    kind: 'dir',
    name: o.path,
    fact,
    plan(f): Plan {
      if (!f.stat) {
        const own = describeOwnership(o);
        return {
          status: 'change',
          reason: `create directory${own ? ` (${own})` : ''}`,
          script: [`mkdir -p ${p}`, ...ownershipScript(p, o, null, { directory: true })].join('\n'),
        };
      }
      if (f.stat.type !== 'directory') {
        return {
          status: 'change',
          reason: `${o.path} is a ${f.stat.type}, not a directory: refusing to replace it`,
          script: failScript(`${o.path} is a ${f.stat.type}, not a directory`),
        };
      }
      const diffs = ownershipDiffs(f.stat, o);
      let deep = false;
      if (recursive && f.beneath !== '') {
        deep = true;
        diffs.push(f.beneath === null ? 'owner/group beneath unknown (user or group missing)' : `owner/group differ beneath (${f.beneath})`);
      }
      if (diffs.length) {
        return {
          status: 'change',
          reason: diffs.join(', '),
          script: ownershipScript(p, o, f.stat, { directory: true, recursive, forceChown: deep }).join('\n'),
        };
      }
      const words: string[] = [];
      if (o.owner !== undefined) words.push('owner');
      if (o.group !== undefined) words.push('group');
      if (o.mode !== undefined) words.push('mode');
      return {
        status: 'ok',
        reason: words.length ? `directory exists, ${matchPhrase(words)}${recursive ? ' (recursively)' : ''}` : 'directory exists',
      };
    },
  };
}
