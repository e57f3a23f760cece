/**
 * Path metadata shared by the file-like operations: the `stat` probe, its parsing, and the exact
 * owner/group/mode comparison (reasons such as `mode 0644 -> 0640, owner root -> kafka`) with the
 * chown/chmod fragment that fixes only what differs.
 */
import { octal, q } from './quote.js';

/** A file mode: a number (`0o640`) or octal digits (`'0640'`, `'640'`). */
export type Mode = number | string;

/** Desired ownership of a path; undefined fields are not managed. */
export interface Ownership {
  owner?: string;
  group?: string;
  mode?: Mode;
}

export interface PathStat {
  /** `%F`: `directory`, `regular file`, `regular empty file`, `symbolic link`, ... */
  type: string;
  owner: string;
  group: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Normalise a mode to a number, rejecting anything that is not 1-4 octal digits. */
export function parseMode(mode: Mode): number {
  const s = typeof mode === 'number' ? mode.toString(8) : mode.replace(/^0o/, '');
  if (!/^[0-7]{1,4}$/.test(s)) throw new Error(`invalid file mode ${JSON.stringify(mode)}: expected octal, e.g. 0o640 or '0640'`);
  return parseInt(s, 8);
}

/** Absolute paths only: every op works on absolute paths, so relative ones are a role bug. */
export function assertAbsolute(path: string, what = 'path'): void {
  if (!path.startsWith('/') || path.includes('\n') || path.includes('\0')) {
    throw new Error(`${what} must be an absolute path without newlines, got ${JSON.stringify(path)}`);
  }
}

/** Throw at construction (not at plan time) on an invalid mode, owner or group. */
export function assertOwnership(want: Ownership): void {
  if (want.mode !== undefined) parseMode(want.mode);
  for (const [what, v] of [['owner', want.owner], ['group', want.group]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(v)) throw new Error(`invalid ${what} ${JSON.stringify(v)}`);
  }
}

export const STAT_FORMAT = '%F|%U|%G|%a|%u|%g';

/** Prints `<tag>|%F|%U|%G|%a|%u|%g` when the path exists (a dangling symlink counts), nothing otherwise. */
export function statCommand(path: string, tag = 'S'): string {
  const p = q(path);
  return `if [ -e ${p} ] || [ -L ${p} ]; then stat -c ${q(`${tag}|${STAT_FORMAT}`)} -- ${p}; fi`;
}

/** Parse the fields after the tag of a `statCommand` line. */
export function parseStat(fields: string): PathStat | null {
  const parts = fields.split('|');
  if (parts.length < 6) return null;
  // user/group names cannot contain `|`; the type is first, so take fields from the end
  const [gid, uid, mode, group, owner] = parts.slice(-5).reverse();
  return {
    type: parts.slice(0, parts.length - 5).join('|'),
    owner,
    group,
    mode: parseInt(mode, 8),
    uid: Number(uid),
    gid: Number(gid),
  };
}

/** Lines of `stdout` starting with `<tag>|`, without the tag. */
export function tagged(stdout: string, tag: string): string[] {
  const prefix = `${tag}|`;
  return stdout.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

export function isRegular(st: PathStat): boolean {
  return st.type === 'regular file' || st.type === 'regular empty file';
}

function ownerMatches(want: string, name: string, id: number): boolean {
  return want === name || (/^[0-9]+$/.test(want) && Number(want) === id);
}

/** What differs, in reason order: `mode 0644 -> 0640`, `owner root -> kafka`, `group root -> kafka`. */
export function ownershipDiffs(st: PathStat, want: Ownership): string[] {
  const out: string[] = [];
  if (want.mode !== undefined && parseMode(want.mode) !== st.mode) {
    out.push(`mode ${octal(st.mode)} -> ${octal(parseMode(want.mode))}`);
  }
  if (want.owner !== undefined && !ownerMatches(want.owner, st.owner, st.uid)) out.push(`owner ${st.owner} -> ${want.owner}`);
  if (want.group !== undefined && !ownerMatches(want.group, st.group, st.gid)) out.push(`group ${st.group} -> ${want.group}`);
  return out;
}

/**
 * chown/chmod `target` (a shell word, already quoted) to `want`; with `st`, only what differs.
 * Directory modes get a leading extra 0 (`00750`): GNU chmod keeps a directory's setgid bit otherwise.
 */
export function ownershipScript(
  target: string,
  want: Ownership,
  st: PathStat | null,
  opts: { directory?: boolean; recursive?: boolean; forceChown?: boolean } = {},
): string[] {
  const lines: string[] = [];
  const ownerDiffers = want.owner !== undefined && (!st || !ownerMatches(want.owner, st.owner, st.uid));
  const groupDiffers = want.group !== undefined && (!st || !ownerMatches(want.group, st.group, st.gid));
  const r = opts.recursive ? '-R ' : '';
  const chown = ownerDiffers || groupDiffers || (opts.forceChown && (want.owner !== undefined || want.group !== undefined));
  if (chown) {
    if (want.owner !== undefined && want.group !== undefined) lines.push(`chown ${r}${q(`${want.owner}:${want.group}`)} ${target}`);
    else if (want.owner !== undefined) lines.push(`chown ${r}${q(want.owner)} ${target}`);
    else lines.push(`chgrp ${r}${q(want.group!)} ${target}`);
  }
  if (want.mode !== undefined && (!st || parseMode(want.mode) !== st.mode)) {
    const m = octal(parseMode(want.mode));
    lines.push(`chmod ${opts.directory ? `0${m}` : m} ${target}`);
  }
  return lines;
}

/** `owner kafka, group kafka, mode 0640` for the managed fields (for reasons of creations). */
export function describeOwnership(want: Ownership): string {
  const parts: string[] = [];
  if (want.owner !== undefined) parts.push(`owner ${want.owner}`);
  if (want.group !== undefined) parts.push(`group ${want.group}`);
  if (want.mode !== undefined) parts.push(`mode ${octal(parseMode(want.mode))}`);
  return parts.join(', ');
}

/** `owner, group and mode` for the managed fields. */
export function managedWords(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** `owner matches`, `owner and mode match`. */
export function matchPhrase(words: string[]): string {
  return `${managedWords(words)} ${words.length === 1 ? 'matches' : 'match'}`;
}

/** A plan that fails when applied: for states the op must not silently "fix" (a directory where a file goes). */
export function failScript(message: string): string {
  return `printf '%s\\n' ${q(`orch: ${message}`)} >&2\nexit 1`;
}
