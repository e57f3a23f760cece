/** Small path helpers: how file paths are shown in messages, and `~` expansion. */
import { homedir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';

/** A path relative to the current directory when it lies below it, else the absolute path. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** `~` and `~/x` become the home directory (`~user` is left alone). */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}
