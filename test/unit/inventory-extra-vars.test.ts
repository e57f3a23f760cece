import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';

describe('parseExtraVars', () => {
  it('reads key=value pairs, several per -e, values staying strings', () => {
    const [l] = parseExtraVars(['a=1 b=true msg="hello world" c=x=y'], '/');
    expect(l.values).toEqual({ a: '1', b: 'true', msg: 'hello world', c: 'x=y' });
    expect(l.origins.a).toEqual({ file: '-e', key: 'a' });
    expect(l.label).toBe('extra vars');
  });

  it('parses JSON-looking values in key=value', () => {
    const [l] = parseExtraVars([`list=[1,2] map='{"k":"v"}' broken=[1,`], '/');
    expect(l.values).toEqual({ list: [1, 2], map: { k: 'v' }, broken: '[1,' });
  });

  it('reads a JSON mapping', () => {
    const [l] = parseExtraVars(['{"a": 1, "b": {"c": [true]}}'], '/');
    expect(l.values).toEqual({ a: 1, b: { c: [true] } });
  });

  it('reads @file (YAML or JSON) relative to cwd, with lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-e-'));
    writeFileSync(join(dir, 'vars.yml'), '# extra\nheap: 2g\nbrokers:\n  - 1\n  - 2\n');
    writeFileSync(join(dir, 'vars.json'), '{\n  "x": 5\n}\n');
    const [y, j] = parseExtraVars(['@vars.yml', '@vars.json'], dir);
    expect(y.values).toEqual({ heap: '2g', brokers: [1, 2] });
    expect(y.origins.brokers).toMatchObject({ line: 3, key: 'brokers' });
    expect(y.origins.heap.file).toMatch(/vars\.yml$/);
    expect(y.label).toBe('extra vars @vars.yml');
    expect(j.values).toEqual({ x: 5 });
    expect(j.origins.x.line).toBe(2);
  });

  it('collects every problem into one InputError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-e-'));
    writeFileSync(join(dir, 'bad.yml'), 'a: 1\nb: [1,\n');
    writeFileSync(join(dir, 'list.yml'), '- a\n');
    try {
      parseExtraVars(['novalue', '@missing.yml', '@bad.yml', '@list.yml', '[1, 2]', ''], dir);
      throw new Error('expected an InputError');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      const problems = (e as InputError).problems;
      expect(problems).toHaveLength(6);
      expect(problems[0].message).toContain("expected key=value, {json} or @file, got 'novalue'");
      expect(problems[1].message).toContain('cannot read');
      expect(problems[2]).toMatchObject({ line: expect.any(Number) });
      expect(problems[2].message).toMatch(/YAML syntax error/);
      expect(problems[3].message).toBe('expected a mapping of variables, got a list');
      expect(problems[4].message).toBe('expected a mapping of variables, got a list');
      expect(problems[5].message).toBe('empty extra vars');
    }
  });
});
