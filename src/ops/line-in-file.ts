/**
 * `lineInFile`: Ansible `lineinfile` (state present, insertafter EOF) semantics. The fact returns the
 * whole (small) file as base64, the controller computes the new content exactly, and the file is
 * rewritten atomically (guarded: the apply fails if the file changed since the fact was gathered).
 *
 * Matching, as Ansible: the LAST line matching `regexp` is replaced by `line`; if none matches, the
 * last line equal to `line` (ignoring trailing CR/LF) is normalised; otherwise `line` is appended
 * (after adding a missing final newline). `regexp` is a JavaScript RegExp (or its source), tested
 * against each line without its `\n`.
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
import { asText, atomicWriteScript, sha256 } from './write.js';

/** Files larger than this are not fetched (lineInFile is for small config files). */
export const LINE_IN_FILE_MAX_BYTES = 1024 * 1024;

export interface LineInFileOptions extends Ownership {
  path: string;
  regexp: string | RegExp;
  line: string;
  /** create the file (and its parent directories) when it is absent (else the op fails, as Ansible does) */
  create?: boolean;
  notify?: string[];
  validate?: string;
  backup?: boolean;
}

export interface ContentFact {
  stat: PathStat | null;
  /** the content, or null when absent, not a regular file, or larger than LINE_IN_FILE_MAX_BYTES */
  content: Buffer | null;
  tooLarge: boolean;
}

export function contentFact(path: string): Fact<ContentFact> {
  const p = q(path);
  const command = [
    statCommand(path, 'S'),
    `if [ -f ${p} ] && [ ! -L ${p} ]; then`,
    `  if [ "$(stat -c %s -- ${p})" -gt ${LINE_IN_FILE_MAX_BYTES} ]; then echo 'BIG|'; else echo 'C|'; base64 <${p}; fi`,
    'fi',
  ].join('\n');
  return {
    key: `content:${path}`,
    command,
    parse(stdout) {
      const s = tagged(stdout, 'S')[0];
      const i = stdout.indexOf('\nC|\n');
      const content = i < 0 ? null : Buffer.from(stdout.slice(i + 4).replace(/\s+/g, ''), 'base64');
      return { stat: s === undefined ? null : parseStat(s), content, tooLarge: tagged(stdout, 'BIG').length > 0 };
    },
  };
}

export interface LineEdit {
  content: string;
  /** what happened, for the reason: `line 3 replaced`, `line appended`, or null (unchanged) */
  action: string | null;
}

/** Ansible lineinfile (present, insertafter EOF, no backrefs) on a text; pure, exported for tests. */
export function editLine(text: string, regexp: RegExp, line: string): LineEdit {
  const lines = text === '' ? [] : text.split(/(?<=\n)/);
  const re = new RegExp(regexp.source, regexp.flags.replace(/[gy]/g, ''));
  let index = -1;
  lines.forEach((l, i) => {
    if (re.test(l.replace(/\n$/, ''))) index = i;
  });
  if (index < 0) {
    lines.forEach((l, i) => {
      if (l.replace(/[\r\n]+$/, '') === line) index = i;
    });
  }
  const newLine = `${line}\n`;
  if (index >= 0) {
    if (lines[index] === newLine) return { content: text, action: null };
    lines[index] = newLine;
    return { content: lines.join(''), action: `line ${index + 1} replaced` };
  }
  if (lines.length && !/[\r\n]$/.test(lines[lines.length - 1])) lines.push('\n');
  lines.push(newLine);
  return { content: lines.join(''), action: 'line appended' };
}

export function lineInFile(o: LineInFileOptions): Operation<ContentFact> {
  assertAbsolute(o.path);
  assertOwnership(o);
  if (o.line.includes('\n')) throw new Error(`lineInFile ${o.path}: line must be a single line`);
  const regexp = typeof o.regexp === 'string' ? new RegExp(o.regexp) : o.regexp;
  return {
    kind: 'lineInFile',
    name: `${o.path}: ${o.line}`,
    fact: contentFact(o.path),
    notify: o.notify,
    plan(f): Plan {
      if (f.stat && !isRegular(f.stat)) {
        return {
          status: 'change',
          reason: `${o.path} is a ${f.stat.type}, not a regular file`,
          script: failScript(`${o.path} is a ${f.stat.type}, not a regular file`),
        };
      }
      if (f.tooLarge) {
        return {
          status: 'change',
          reason: `${o.path} is larger than ${LINE_IN_FILE_MAX_BYTES} bytes: lineInFile is for small files`,
          script: failScript(`${o.path} is too large for lineInFile`),
        };
      }
      if (!f.stat) {
        if (!o.create) {
          return {
            status: 'change',
            reason: `${o.path} does not exist (create is false)`,
            script: failScript(`${o.path} does not exist (lineInFile with create: false)`),
          };
        }
        const content = Buffer.from(`${o.line}\n`, 'utf8');
        const own = describeOwnership(o);
        return {
          status: 'change',
          reason: `create with the line${own ? ` (${own})` : ''}`,
          script: atomicWriteScript({ ...o, content, expectSha256: null, makeParents: true }),
          diff: { path: o.path, after: content.toString('utf8') },
        };
      }
      const old = f.content ?? Buffer.alloc(0);
      const text = asText(old);
      if (text === undefined) {
        return {
          status: 'change',
          reason: `${o.path} is not UTF-8 text`,
          script: failScript(`${o.path} is not UTF-8 text`),
        };
      }
      const edit = editLine(text, regexp, o.line);
      const diffs = ownershipDiffs(f.stat, o);
      if (edit.action) {
        const content = Buffer.from(edit.content, 'utf8');
        return {
          status: 'change',
          reason: [edit.action, ...diffs].join(', '),
          script: atomicWriteScript({ ...o, content, preserveFrom: true, expectSha256: sha256(old) }),
          diff: { path: o.path, before: text, after: edit.content },
        };
      }
      if (diffs.length) {
        return { status: 'change', reason: diffs.join(', '), script: ownershipScript(q(o.path), o, f.stat).join('\n') };
      }
      const own: string[] = [];
      if (o.owner !== undefined) own.push('owner');
      if (o.group !== undefined) own.push('group');
      if (o.mode !== undefined) own.push('mode');
      return { status: 'ok', reason: own.length ? `line present, ${matchPhrase(own)}` : 'line present' };
    },
  };
}
