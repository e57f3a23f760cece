import { describe, expect, it } from 'vitest';
import { expandHostPattern } from '../../src/inventory/host-pattern.js';
import { parseIniValue, shlexSplit } from '../../src/inventory/ini-value.js';

describe('shlexSplit (host lines)', () => {
  it('splits on spaces, groups quoted words, strips comments', () => {
    expect(shlexSplit(`vm1 a=1 msg="two words" b='x # y' # comment`)).toEqual(['vm1', 'a=1', 'msg=two words', 'b=x # y']);
    expect(shlexSplit('a=b#c d')).toEqual(['a=b']);
    expect(shlexSplit('x="a\\"b" y=a\\ b')).toEqual(['x=a"b', 'y=a b']);
    expect(() => shlexSplit('x="open')).toThrow(/closing quotation/);
  });
});

describe('parseIniValue', () => {
  it.each([
    ['42', 42],
    ['-7', -7],
    ['0x1F', 31],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['True', true],
    ['False', false],
    ['true', true],
    ['yes', true],
    ['No', false],
    ['None', null],
    ['"quoted 1"', 'quoted 1'],
    ["'it''s'", 'its'],
    ["'a\\nb'", 'a\nb'],
    ["['a', 1, [True]]", ['a', 1, [true]]],
    ["{'k': 'v', 2: None}", { k: 'v', '2': null }],
    ['(1, 2)', [1, 2]],
    ['hello world', 'hello world'],
    ['10.0.0.1', '10.0.0.1'],
    ['0755', '0755'],
    ['1g', '1g'],
    ['/path/to/x', '/path/to/x'],
    ['{{ templated }}', '{{ templated }}'],
    ['[broken', '[broken'],
  ])('%s', (text, value) => {
    expect(parseIniValue(text)).toEqual(value);
  });
});

describe('expandHostPattern', () => {
  it('expands numeric, padded, stepped, alphabetic and multiple ranges', () => {
    expect(expandHostPattern('vm[1:3]')).toEqual({ hosts: ['vm1', 'vm2', 'vm3'], port: undefined });
    expect(expandHostPattern('vm[08:10].lan')).toEqual({ hosts: ['vm08.lan', 'vm09.lan', 'vm10.lan'], port: undefined });
    expect(expandHostPattern('n[0:6:3]')).toEqual({ hosts: ['n0', 'n3', 'n6'], port: undefined });
    expect(expandHostPattern('db-[a:c]')).toEqual({ hosts: ['db-a', 'db-b', 'db-c'], port: undefined });
    expect(expandHostPattern('r[1:2]n[a:b]')).toEqual({ hosts: ['r1na', 'r1nb', 'r2na', 'r2nb'], port: undefined });
  });

  it('splits a port, also after a range and for bracketed IPv6', () => {
    expect(expandHostPattern('db1:2222')).toEqual({ hosts: ['db1'], port: 2222 });
    expect(expandHostPattern('vm[1:2]:2200')).toEqual({ hosts: ['vm1', 'vm2'], port: 2200 });
    expect(expandHostPattern('[2001:db8::1]:2022')).toEqual({ hosts: ['2001:db8::1'], port: 2022 });
    expect(expandHostPattern('fe80::1')).toEqual({ hosts: ['fe80::1'], port: undefined });
  });

  it('reports bad ranges and trailing colons', () => {
    expect(expandHostPattern('vm[01:100]')).toMatchObject({ error: expect.stringContaining('same length') });
    expect(expandHostPattern('vm[3:1]')).toMatchObject({ error: expect.stringContaining('begin must be <= end') });
    expect(expandHostPattern('vm1:')).toMatchObject({ error: expect.stringContaining("ends in ':'") });
  });
});
