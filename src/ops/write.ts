/**
 * Atomic file replacement as a POSIX sh fragment: a temp file in the target's directory
 * (`mktemp "$dir/.orch.XXXXXX"`, mode 0600 from the start), content decoded from base64 lines by
 * `base64 -d` (binary safe, no quoting issues), ownership and mode set on the temp file, optional
 * validation of the temp file, optional backup, then `mv -fT` over the target (never into a directory).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { q } from './quote.js';
import { ownershipScript, type Ownership } from './stat.js';

export interface AtomicWrite extends Ownership {
  path: string;
  content: Buffer;
  /** command with `%s` for the temp file, e.g. `visudo -cf %s` */
  validate?: string;
  /** keep a copy of the old file as `<path>.<date>~` (like Ansible's `backup: yes`) */
  backup?: boolean;
  /** the target exists as a regular file: unmanaged owner, group and mode are copied from it */
  preserveFrom?: boolean;
  /**
   * guard against concurrent edits: the script fails unless the target still has this sha256
   * (`null`: the target must still be absent). Used by edits computed from the old content.
   */
  expectSha256?: string | null;
  /** create missing parent directories first (`mkdir -p`) */
  makeParents?: boolean;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Short form of a hash for reasons: `1a2b3c4d5e6f..`. */
export function short(hash: string): string {
  return `${hash.slice(0, 12)}..`;
}

export function toBuffer(content: string | Buffer): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** Text if it is valid UTF-8 without NULs, else undefined (binary: shown masked). */
export function asText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return undefined;
  }
}

/** `printf '%s\n' <base64 lines> | base64 -d >"$t"`; base64 characters need no quoting. */
function writeContent(content: Buffer, dest: string): string {
  if (content.length === 0) return `: >${dest}`;
  const b64 = content.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return `printf '%s\\n' \\\n${lines.map((l) => `  ${l} \\\n`).join('')}  | base64 -d >${dest}`;
}

/** The sh fragment; uses shell variables `t` (and `s` with expectSha256). */
export function atomicWriteScript(w: AtomicWrite): string {
  const p = q(w.path);
  const dir = posix.dirname(w.path);
  const out: string[] = [];
  if (w.expectSha256 === null) {
    out.push(`if [ -e ${p} ] || [ -L ${p} ]; then printf '%s\\n' ${q(`orch: ${w.path} appeared since facts were gathered; not overwriting it`)} >&2; exit 1; fi`);
  } else if (w.expectSha256 !== undefined) {
    out.push(`s=$(sha256sum <${p} | cut -c1-64)`);
    out.push(`if [ "$s" != ${w.expectSha256} ]; then printf '%s\\n' ${q(`orch: ${w.path} changed since facts were gathered; not overwriting it`)} >&2; exit 1; fi`);
  }
  if (w.makeParents) out.push(`mkdir -p ${q(dir)}`);
  out.push(`t=$(mktemp ${q(`${dir === '/' ? '' : dir}/.orch.XXXXXX`)})`);
  const steps = [writeContent(w.content, '"$t"')];
  if (w.preserveFrom) steps.push(`chown --reference=${p} "$t"`, `chmod --reference=${p} "$t"`);
  else if (w.mode === undefined) steps.push(`chmod 0644 "$t"`);
  steps.push(...ownershipScript('"$t"', w, null));
  out.push(`{ ${steps.join(' &&\n  ')}\n} || { rm -f "$t"; exit 1; }`);
  if (w.validate !== undefined) {
    out.push(
      `${validateCommand(w.validate)} || { rm -f "$t"; printf '%s\\n' ${q(`orch: validation failed: ${w.validate}`)} >&2; exit 1; }`,
    );
  }
  if (w.backup && w.preserveFrom) out.push(`cp -p ${p} ${p}."$(date +%Y-%m-%d@%H:%M:%S)~"`);
  out.push(`mv -fT "$t" ${p}`);
  return out.join('\n');
}

/** Substitute the temp file for `%s` in a validate command (which the role author wrote as sh). */
export function validateCommand(validate: string): string {
  if (!validate.includes('%s')) throw new Error(`validate command must contain %s for the file to check: ${validate}`);
  return validate.split('%s').join('"$t"');
}
