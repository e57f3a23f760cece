/**
 * Reading YAML the way Ansible does (YAML 1.1: `yes`/`no` are booleans, `0755` is octal, `<<` merges),
 * keeping the parsed document so that any key path can be turned back into a 1-based line.
 * Syntax errors come back as InputProblems with their line instead of being thrown.
 */
import { readFileSync, statSync } from 'node:fs';
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
      Alias(_, alias, ancestors) {
        const target = alias.resolve(doc);
        const at = alias.range?.[0];
        if (target?.range && at !== undefined && target.range[0] <= at && at < target.range[2]) {
          const key = keyPathOf([...ancestors, alias]).join('.');
          problems.push({ file, line: lc.linePos(at).line, ...(key ? { key } : {}), message: `YAML alias *${alias.source} refers to a node that contains it` });
        }
      },
    });
  }
  let data: unknown;
  if (problems.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      // an alias bomb (billion laughs): the first alias is where it starts
      let line: number | undefined;
      visit(doc, {
        Alias(_, alias) {
          if (alias.range) line = lc.linePos(alias.range[0]).line;
          return visit.BREAK;
        },
      });
      problems.push({ file, line, message: `YAML error: ${(e as Error).message}` });
    }
  }
  return { file, data: data ?? undefined, lineOf, problems };
}

/**
 * The largest input file orch reads (inventory, var file, playbook, `-e @file`): 2 MiB, some 20000 hosts with
 * their variables. Parsing takes seconds per MiB, so a bigger file (a log or a dump given by mistake) is refused
 * before it is read rather than parsed for minutes.
 */
export const MAX_INPUT_BYTES = 2 * 1024 * 1024;

/** The text of an input file, or the problem that it cannot be read or is too big. */
export function readInputFile(path: string, file: string): { text: string } | { problem: InputProblem } {
  try {
    const size = statSync(path).size;
    if (size > MAX_INPUT_BYTES) {
      return { problem: { file, message: `file too big: ${size} bytes, more than the ${MAX_INPUT_BYTES} (2 MiB) orch reads (is this the right file?)` } };
    }
    return { text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { problem: { file, message: `cannot read: ${(e as Error).message}` } };
  }
}

/** Reads and parses a YAML (or JSON) file; an unreadable or too big file is a problem too. */
export function readYamlFile(path: string, file = displayPath(path)): ParsedYaml {
  const read = readInputFile(path, file);
  if ('problem' in read) return { file, data: undefined, lineOf: () => undefined, problems: [read.problem] };
  return parseYaml(read.text, file);
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

/** The key path of the last of `nodes` (the visitor's ancestors, then the node): map keys and list indexes. */
function keyPathOf(nodes: readonly unknown[]): KeyPath {
  const out: KeyPath = [];
  for (let i = 0; i < nodes.length - 1; i++) {
    const [n, child] = [nodes[i], nodes[i + 1]];
    if (isPair(n) && child === n.value) out.push(keyText(n.key) ?? '?');
    else if (isSeq(n)) out.push(n.items.indexOf(child as never));
  }
  return out;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | null | undefined)?.range;
  return r ? r[0] : undefined;
}
