/** POSIX sh quoting: every interpolated value goes through `q`. Targets run dash: no bash `$'...'`. */

/** Quote one word for POSIX sh: `it's` -> `'it'\''s'`. */
export function q(value: string | number): string {
  const s = String(value);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each word and join with spaces: an argv for sh. */
export function argv(...words: Array<string | number>): string {
  return words.map(q).join(' ');
}

/** Octal mode as the 4-digit string chmod and stat use, e.g. 0o640 -> `0640`. */
export function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
