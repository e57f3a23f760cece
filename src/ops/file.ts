/**
 * `file`: a whole file with exact content, owner, group and mode, written atomically (see write.ts).
 * Fact: existence, type, owner, group, mode (stat) and sha256 of the content. Only what differs is
 * changed: an owner/mode difference alone is fixed with chown/chmod, without rewriting the content.
 * Also `lines(...)`, to render a file from lines with exactly one trailing newline.
 */
import type { Fact, Operation, Plan } from './types.js';
import {
  assertAbsolute,
  assertOwnership,
  describeOwnership,
  failScript,
  isRegular,
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
import { asText, atomicWriteScript, sha256, short, toBuffer } from './write.js';

export interface FileOptions extends Ownership {
  path: string;
  content: string | Buffer;
  /** command with `%s` for the temp file, run before it replaces the target, e.g. `visudo -cf %s` */
  validate?: string;
  /** handlers (service names) to restart when the file changes */
  notify?: string[];
  /** never show the content (diffs, logs) */
  secret?: boolean;
  /** keep the old file as `<path>.<date>~` when the content changes */
  backup?: boolean;
}

export interface FileFact {
  stat: PathStat | null;
  /** sha256 of the content; only for a regular file (not through a symlink) */
  sha256: string | null;
}

/** Stat and sha256 of a path; shared by every op that manages a whole file (file, sysctl, limits, unit). */
export function fileFactCommand(path: string): string {
  const p = q(path);
  return `${statCommand(path, 'S')}\nif [ -f ${p} ] && [ ! -L ${p} ]; then printf 'H|'; sha256sum <${p}; fi`;
}

export function parseFileFact(stdout: string): FileFact {
  const s = tagged(stdout, 'S')[0];
  const h = tagged(stdout, 'H')[0];
  const m = h === undefined ? null : /^[0-9a-f]{64}/.exec(h);
  return { stat: s === undefined ? null : parseStat(s), sha256: m ? m[0] : null };
}

export function fileFact(path: string): Fact<FileFact> {
  return { key: `file:${path}`, command: fileFactCommand(path), parse: (stdout) => parseFileFact(stdout), batch: { stat: path, sha256: true } };
}

/** Render a file from lines: nested arrays are flattened, false/null/undefined dropped, one trailing newline. */
export function lines(...parts: Array<string | number | false | null | undefined | Array<string | number | false | null | undefined>>): string {
  const flat = parts.flat().filter((l): l is string | number => l !== false && l !== null && l !== undefined);
  if (flat.length === 0) return '';
  return `${flat.map(String).join('\n').replace(/\n+$/, '')}\n`;
}

/** Header text as comment lines: `# ` is prepended to lines that do not start with `#`. */
export function commentLines(header: string | undefined): string[] {
  return header === undefined ? [] : header.replace(/\n+$/, '').split('\n').map((l) => (l.startsWith('#') ? l : `# ${l}`.trimEnd()));
}

/** Plan for a whole file: the heart of `file`, reused by `sysctl`, `limits` and `unit`. */
export function planFile(o: FileOptions, f: FileFact): Plan {
  const content = toBuffer(o.content);
  const want = sha256(content);
  const text = asText(content);
  const diff = { path: o.path, after: text ?? '', masked: o.secret || text === undefined ? true : undefined };
  if (diff.masked === undefined) delete diff.masked;
  const write = (preserve: boolean) =>
    atomicWriteScript({ ...o, content, preserveFrom: preserve });

  if (f.stat && !isRegular(f.stat) && f.stat.type !== 'symbolic link') {
    return {
      status: 'change',
      reason: `${o.path} is a ${f.stat.type}, not a regular file: refusing to replace it`,
      script: failScript(`${o.path} is a ${f.stat.type}, not a regular file`),
    };
  }
  const own = describeOwnership(o);
  const size = `${content.length} byte${content.length === 1 ? '' : 's'}`;
  if (!f.stat) {
    return {
      status: 'change',
      reason: `create (${[size, `sha256 ${short(want)}`, own].filter(Boolean).join(', ')})`,
      script: write(false),
      diff,
    };
  }
  if (f.stat.type === 'symbolic link') {
    return {
      status: 'change',
      reason: `replace symbolic link with a regular file (${[size, `sha256 ${short(want)}`, own].filter(Boolean).join(', ')})`,
      script: write(false),
      diff,
    };
  }
  const diffs = ownershipDiffs(f.stat, o);
  if (f.sha256 !== want) {
    const reason = [`content differs (sha256 ${f.sha256 ? short(f.sha256) : 'unknown'} -> ${short(want)})`, ...diffs].join(', ');
    return { status: 'change', reason, script: write(true), diff };
  }
  if (diffs.length) {
    return { status: 'change', reason: diffs.join(', '), script: ownershipScript(q(o.path), o, f.stat).join('\n') };
  }
  const words = ['content'];
  if (o.owner !== undefined) words.push('owner');
  if (o.group !== undefined) words.push('group');
  if (o.mode !== undefined) words.push('mode');
  return { status: 'ok', reason: matchPhrase(words) };
}

export function file(o: FileOptions): Operation<FileFact> {
  assertAbsolute(o.path);
  assertOwnership(o);
  if (o.validate !== undefined && !o.validate.includes('%s')) {
    throw new Error(`file ${o.path}: validate must contain %s for the file to check, got ${JSON.stringify(o.validate)}`);
  }
  return {
    kind: 'file',
    name: o.path,
    fact: fileFact(o.path),
    plan: (f) => planFile(o, f),
    notify: o.notify,
    secret: o.secret,
  };
}
