/**
 * `prune`: the files of one directory that match a suffix and that `keep` does not name are deleted, so that a
 * directory a service reads whole (Trino's catalog/, a conf.d) holds only what the inventory lists: a catalog taken
 * out of the inventory is gone after the next run, and a rerun changes nothing. Only regular files and symlinks
 * directly in `dir` are considered; subdirectories are left alone. A missing directory is fine (nothing to prune).
 */
import { posix } from 'node:path';
import type { Fact, Operation, Plan } from './types.js';
import { q } from './quote.js';
import { assertAbsolute } from './stat.js';

export interface PruneOptions {
  dir: string;
  /** file names ending so are managed, e.g. `.properties` */
  suffix: string;
  /** the file names (with suffix) to keep */
  keep: string[];
  /** handlers to restart when something was deleted */
  notify?: string[];
}

const SAFE_NAME = /^[A-Za-z0-9._@+-]+$/;

export function pruneFact(dir: string, suffix: string): Fact<string[]> {
  return {
    key: `prune:${dir}:${suffix}`,
    command: `for p in ${q(dir)}/*${q(suffix)}; do { [ -f "$p" ] || [ -L "$p" ]; } && printf 'F|%s\\n' "\${p##*/}"; done; true`,
    parse: (out) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('F|'))
        .map((l) => l.slice(2))
        // a name with a newline prints as several lines: keep only what can be a file of dir with the suffix
        .filter((n) => n.endsWith(suffix) && n !== suffix && !n.includes('/'))
        .sort(),
  };
}

export function prune(o: PruneOptions): Operation<string[]> {
  assertAbsolute(o.dir, 'prune');
  if (!o.suffix || !SAFE_NAME.test(o.suffix)) throw new Error(`prune ${o.dir}: suffix ${JSON.stringify(o.suffix)} must be a plain file-name ending, e.g. .properties`);
  for (const k of o.keep) {
    if (!k.endsWith(o.suffix) || k.includes('/')) throw new Error(`prune ${o.dir}: keep ${JSON.stringify(k)} must be a file name ending in ${o.suffix}`);
  }
  return {
    kind: 'prune',
    name: `${posix.join(o.dir, `*${o.suffix}`)}`,
    fact: pruneFact(o.dir, o.suffix),
    notify: o.notify,
    plan(present): Plan {
      const stale = present.filter((f) => !o.keep.includes(f));
      if (!stale.length) return { status: 'ok', reason: o.keep.length ? `only ${o.keep.join(', ')}` : `no *${o.suffix}` };
      return {
        status: 'change',
        reason: `remove ${stale.join(', ')} (not in the inventory)`,
        script: stale.map((f) => `rm -f ${q(posix.join(o.dir, f))}`).join('\n'),
      };
    },
  };
}
