/**
 * Reading YAML the way Ansible does (YAML 1.1: `yes`/`no` are booleans, `0755` is octal, `<<` merges),
 * keeping the parsed document so that any key path can be turned back into a 1-based line.
 * Syntax errors come back as InputProblems with their line instead of being thrown.
 */
import { readFileSync } from 'node:fs';
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Node } from 'yaml';
import type { InputProblem } from '../core/errors.js';
import { displayPath } from './paths.js';

export type KeyPath = Array<string | number>;

export interface ParsedYaml {
  /** path as shown in messages */
  file: string;
  /** plain JS value (undefined for an empty document or when there were syntax errors) */
  data: unknown;
  /** 1-based line of the key (or list item) at `path`; the nearest existing ancestor if it is not found */
  lineOf(path: KeyPath): number | undefined;
  problems: InputProblem[];
}

/** Ansible-specific tags: `!unsafe` is a plain string to orch; `!vault` cannot be decrypted. */
const ANSIBLE_TAGS = [
  { tag: '!unsafe', resolve: (s: string) => s },
  {
    tag: '!vault',
    resolve: (s: string, onError: (msg: string) => void) => {
      onError('vault-encrypted values (!vault) are not supported by orch');
      return s;
    },
  },
];

export function parseYaml(text: string, file: string): ParsedYaml {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, version: '1.1', prettyErrors: false, customTags: ANSIBLE_TAGS });
  const problems: InputProblem[] = doc.errors.map((e) => ({
    file,
    line: lc.linePos(e.pos[0]).line,
    message: `YAML syntax error: ${e.message}`,
  }));
  const lineOf = (path: KeyPath): number | undefined => {
    const off = offsetOf(doc, path);
    return off === undefined ? undefined : lc.linePos(off).line;
  };
  if (problems.length === 0) {
    // an alias inside the node it refers to would make the data infinitely deep
    visit(doc, {
      Alias(_, alias) {
        const target = alias.resolve(doc);
        const at = alias.range?.[0];
        if (target?.range && at !== undefined && target.range[0] <= at && at < target.range[2]) {
          problems.push({ file, line: lc.linePos(at).line, message: `YAML alias *${alias.source} refers to a node that contains it` });
        }
      },
    });
  }
  let data: unknown;
  if (problems.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      problems.push({ file, message: `YAML error: ${(e as Error).message}` });
    }
  }
  return { file, data: data ?? undefined, lineOf, problems };
}

/** Reads and parses a YAML (or JSON) file; an unreadable file is a problem too. */
export function readYamlFile(path: string): ParsedYaml {
  const file = displayPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { file, data: undefined, lineOf: () => undefined, problems: [{ file, message: `cannot read: ${(e as Error).message}` }] };
  }
  return parseYaml(text, file);
}

/** Character offset of the key (map entry) or item (list) at `path`, or of the nearest ancestor found. */
function offsetOf(doc: Document, path: KeyPath): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = rangeStart(node);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) return best;
      best = rangeStart(pair.key) ?? best;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
      const item = node.items[Number(seg)];
      if (item === undefined) return best;
      best = rangeStart(item) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | null | undefined)?.range;
  return r ? r[0] : undefined;
}
