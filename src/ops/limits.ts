/**
 * `limits`: a /etc/security/limits.d file (pam_limits), rendered from typed entries
 * (`domain type item value` per line, after optional header comment lines). A thin wrapper on `file`.
 */
import type { Operation } from './types.js';
import { commentLines, file, lines, type FileFact } from './file.js';

export interface LimitsEntry {
  /** user, `@group`, `*`, ... */
  domain: string;
  type: 'soft' | 'hard' | '-';
  /** nofile, nproc, memlock, ... */
  item: string;
  value: string | number;
}

export interface LimitsOptions {
  /** e.g. `/etc/security/limits.d/90-kafka.conf` */
  file: string;
  entries: LimitsEntry[];
  /** comment line(s) at the top; `# ` is prepended to lines that do not start with `#` */
  header?: string;
  notify?: string[];
}

export function limitsContent(entries: LimitsEntry[], header?: string): string {
  for (const e of entries) {
    for (const field of [e.domain, e.item, String(e.value)]) {
      if (field === '' || /\s/.test(field)) throw new Error(`limits: invalid field ${JSON.stringify(field)} (empty or whitespace)`);
    }
  }
  return lines(commentLines(header), entries.map((e) => `${e.domain} ${e.type} ${e.item} ${e.value}`));
}

export function limits(o: LimitsOptions): Operation<FileFact> {
  const op = file({ path: o.file, content: limitsContent(o.entries, o.header), owner: 'root', group: 'root', mode: 0o644, notify: o.notify });
  return { ...op, kind: 'limits' };
}
