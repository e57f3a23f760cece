/**
 * `-e` / `--extra-vars`, as Ansible reads them; one VarLayer per `-e`, in command-line order:
 *   -e 'key=value other="two words"'   pairs separated by spaces; values stay strings, except JSON-looking
 *                                       ones (`{...}`, `[...]`) which are parsed
 *   -e '{"a": 1}'                       a JSON (or YAML flow) mapping
 *   -e @vars.yml                        a YAML or JSON file, relative to `cwd`; origins carry its lines
 * All problems are thrown at once as an InputError.
 */
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { InputProblem } from '../core/errors.js';
import { shlexSplit } from './ini-value.js';
import { emptyLayer, setVar } from './raw.js';
import { describeValue, joinKey } from './schema.js';
import type { VarLayer } from './types.js';
import { parseYaml, readYamlFile } from './yaml-file.js';
import type { ParsedYaml } from './yaml-file.js';

const CLI = '-e';

export function parseExtraVars(args: string[], cwd: string): VarLayer[] {
  const layers: VarLayer[] = [];
  const problems: InputProblem[] = [];
  for (const arg of args) {
    const text = arg.trim();
    if (!text) {
      problems.push({ file: CLI, message: 'empty extra vars' });
    } else if (text.startsWith('@')) {
      fromDocument(readYamlFile(resolve(cwd, text.slice(1))), `extra vars ${text}`);
    } else if (text.startsWith('{') || text.startsWith('[')) {
      fromDocument(parseYaml(text, CLI), 'extra vars');
    } else {
      fromPairs(text);
    }
  }
  if (problems.length) throw new InputError(problems);
  return layers;

  function fromDocument(parsed: ParsedYaml, label: string): void {
    const { file, data } = parsed;
    if (parsed.problems.length) {
      problems.push(...parsed.problems);
      return;
    }
    if (data === undefined || data === null) return;
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push({ file, line: parsed.lineOf([]), message: `expected a mapping of variables, got ${describeValue(data)}` });
      return;
    }
    const layer = emptyLayer(label);
    for (const [k, v] of Object.entries(data)) setVar(layer, k, v, { file, line: file === CLI ? undefined : parsed.lineOf([k]), key: joinKey([k]) });
    layers.push(layer);
  }

  function fromPairs(text: string): void {
    let words: string[];
    try {
      words = shlexSplit(text, false);
    } catch (e) {
      problems.push({ file: CLI, message: `cannot parse '${text}': ${(e as Error).message}` });
      return;
    }
    const layer = emptyLayer('extra vars');
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) {
        problems.push({ file: CLI, key: w, message: `expected key=value, {json} or @file, got '${w}'` });
        continue;
      }
      const key = w.slice(0, eq);
      setVar(layer, key, jsonLooking(w.slice(eq + 1)), { file: CLI, key });
    }
    layers.push(layer);
  }
}

function jsonLooking(v: string): unknown {
  if (!/^\s*[[{]/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
