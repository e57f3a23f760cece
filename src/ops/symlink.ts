/**
 * `symlink`: `path` is a symbolic link to `target`. Replaced atomically: the new link is made under a
 * temp name in the same directory (`ln -sfn`) and renamed over `path` (`mv -fT`), so readers never see
 * it missing. A non-link at `path` is never replaced.
 */
import { posix } from 'node:path';
import type { Fact, Operation, Plan } from './types.js';
import { assertAbsolute, failScript, tagged } from './stat.js';
import { q } from './quote.js';

export interface SymlinkOptions {
  path: string;
  /** what the link points to (verbatim: absolute or relative to the link's directory) */
  target: string;
}

/** `{ link: target }`, `{ other: '%F' }` or `{}` (absent). */
export interface LinkFact {
  link?: string;
  other?: string;
}

export function linkFactCommand(path: string): string {
  const p = q(path);
  return `if [ -L ${p} ]; then printf 'L|'; readlink -- ${p}; elif [ -e ${p} ]; then stat -c 'O|%F' -- ${p}; fi`;
}

export function parseLinkFact(stdout: string): LinkFact {
  const i = stdout.indexOf('L|');
  if (i === 0) return { link: stdout.slice(2).replace(/\n$/, '') };
  const o = tagged(stdout, 'O')[0];
  return o === undefined ? {} : { other: o };
}

export function linkFact(path: string): Fact<LinkFact> {
  return { key: `link:${path}`, command: linkFactCommand(path), parse: (s) => parseLinkFact(s) };
}

/** The sh fragment that points `path` at `target` atomically. */
export function linkScript(path: string, target: string): string {
  const tmp = posix.join(posix.dirname(path), `.orch.${posix.basename(path)}.tmp`);
  return `ln -sfn ${q(target)} ${q(tmp)}\nmv -fT ${q(tmp)} ${q(path)}`;
}

export function planLink(path: string, target: string, f: LinkFact): Plan {
  if (f.other !== undefined) {
    return {
      status: 'change',
      reason: `${path} is a ${f.other}, not a symbolic link: refusing to replace it`,
      script: failScript(`${path} is a ${f.other}, not a symbolic link`),
    };
  }
  if (f.link === target) return { status: 'ok', reason: `link points to ${target}` };
  return {
    status: 'change',
    reason: f.link === undefined ? `create link -> ${target}` : `link target ${f.link} -> ${target}`,
    script: linkScript(path, target),
  };
}

export function symlink(o: SymlinkOptions): Operation<LinkFact> {
  assertAbsolute(o.path);
  if (o.target === '' || o.target.includes('\n')) throw new Error(`symlink ${o.path}: invalid target ${JSON.stringify(o.target)}`);
  return { kind: 'symlink', name: o.path, fact: linkFact(o.path), plan: (f) => planLink(o.path, o.target, f) };
}
