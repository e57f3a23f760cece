/**
 * Batched path facts: the `stat` (and `sha256sum`) of every file and directory an operation list manages,
 * in two processes per host instead of two per path. Each batched fact's stdout is rebuilt exactly as its
 * own command prints it (`S|...`, `H|<sha256>  -`), so its `parse` is unchanged.
 */
import type { Fact } from '../ops/types.js';
import { q } from '../ops/quote.js';
import { STAT_FORMAT } from '../ops/stat.js';

/** paths whose names survive `stat %n` and `sha256sum` output unambiguously */
const PLAIN_PATH = /^\/[A-Za-z0-9_@%+=:,. /-]*$/;

export function batchable(f: Fact<unknown>): boolean {
  return !!f.batch && PLAIN_PATH.test(f.batch.stat) && !f.batch.stat.includes('  ');
}

/** One command printing `P|<path>|<STAT_FORMAT>` per existing path and `<sha256>  <path>` per regular file. */
export function batchCommand(facts: Fact<unknown>[]): string {
  const paths = [...new Set(facts.map((f) => f.batch!.stat))];
  const hashed = [...new Set(facts.filter((f) => f.batch!.sha256).map((f) => f.batch!.stat))];
  const lines = [`stat -c ${q(`P|%n|${STAT_FORMAT}`)} -- ${paths.map(q).join(' ')} 2>/dev/null`];
  if (hashed.length) lines.push(`sha256sum -- ${hashed.map(q).join(' ')} 2>/dev/null | sed 's/^/H|/'`);
  lines.push('true');
  return lines.join('\n');
}

/** Each fact's stdout, as its own command would have printed it. */
export function splitBatch(stdout: string, facts: Fact<unknown>[]): string[] {
  const stats = new Map<string, string>();
  const hashes = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('P|')) {
      const rest = line.slice(2);
      const bar = rest.indexOf('|');
      stats.set(rest.slice(0, bar), rest.slice(bar + 1));
    } else if (line.startsWith('H|')) {
      const m = /^H\|([0-9a-f]{64}) {2}(.*)$/.exec(line);
      if (m) hashes.set(m[2], m[1]);
    }
  }
  return facts.map((f) => {
    const { stat, sha256 } = f.batch!;
    const st = stats.get(stat);
    if (st === undefined) return '';
    let out = `S|${st}\n`;
    const type = st.split('|')[0];
    if (sha256 && type.startsWith('regular') && hashes.has(stat)) out += `H|${hashes.get(stat)}  -\n`;
    return out;
  });
}
