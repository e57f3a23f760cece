import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { limitHosts, selectHosts, splitPattern } from '../../src/inventory/patterns.js';

const inv = loadInventory('yaml-basic', { projectRoot: join(import.meta.dirname, '..', 'fixtures') });
const all = ['lonely', 'vm1', 'vm2', 'vm3', 'vm4', 'web01.example.com', 'web02.example.com'];
const sel = (p: string) => selectHosts(inv, p);

describe('selectHosts', () => {
  it('all and * select every host, in inventory order', () => {
    expect(sel('all')).toEqual(all);
    expect(sel('*')).toEqual(all);
  });

  it('selects a group through its children, a host, ungrouped', () => {
    expect(sel('data')).toEqual(['vm1', 'vm2', 'vm3', 'vm4']);
    expect(sel('zookeeper')).toEqual(['vm1', 'vm4']);
    expect(sel('vm3')).toEqual(['vm3']);
    expect(sel('ungrouped')).toEqual(['lonely']);
  });

  it('matches globs against group and host names', () => {
    expect(sel('vm*')).toEqual(['vm1', 'vm2', 'vm3', 'vm4']);
    expect(sel('web0?.example.com')).toEqual(['web01.example.com', 'web02.example.com']);
    expect(sel('zoo*')).toEqual(['vm1', 'vm4']);
    expect(sel('vm[!12]')).toEqual(['vm3', 'vm4']);
  });

  it('unions with : and , in inventory order', () => {
    expect(sel('zookeeper:lonely')).toEqual(['lonely', 'vm1', 'vm4']);
    expect(sel('vm4,vm2')).toEqual(['vm2', 'vm4']);
  });

  it('intersects with &', () => {
    expect(sel('kafka:&zookeeper')).toEqual(['vm1']);
    expect(sel('kafka,&zookeeper')).toEqual(['vm1']);
  });

  it('excludes with !, whatever the position', () => {
    expect(sel('data:!zookeeper')).toEqual(['vm2', 'vm3']);
    expect(sel('!zookeeper:data')).toEqual(['vm2', 'vm3']);
    expect(sel('!data')).toEqual(['lonely', 'web01.example.com', 'web02.example.com']);
    expect(sel('data:&kafka:!vm2')).toEqual(['vm1', 'vm3']);
  });

  it('matches ~regex from the start of the name', () => {
    expect(sel('~vm[13]')).toEqual(['vm1', 'vm3']);
    expect(sel('~web\\d+\\.')).toEqual(['web01.example.com', 'web02.example.com']);
    expect(sel('~example')).toEqual([]);
  });

  it('takes subscripts of a group (inclusive ranges)', () => {
    expect(sel('kafka[0]')).toEqual(['vm1']);
    expect(sel('kafka[-1]')).toEqual(['vm3']);
    expect(sel('kafka[1:2]')).toEqual(['vm2', 'vm3']);
    expect(sel('kafka[1:]')).toEqual(['vm2', 'vm3']);
  });

  it('returns [] for names that match nothing', () => {
    expect(sel('nosuch')).toEqual([]);
    expect(sel('nosuch:vm1')).toEqual(['vm1']);
  });

  it('splits like Ansible, keeping IPv6 addresses and [x:y] whole', () => {
    expect(splitPattern('a:&b:!c')).toEqual(['a', '&b', '!c']);
    expect(splitPattern('kafka[1:2]:web')).toEqual(['kafka[1:2]', 'web']);
    expect(splitPattern('fe80::1')).toEqual(['fe80::1']);
    expect(splitPattern(' a , b ')).toEqual(['a', 'b']);
  });
});

describe('limitHosts', () => {
  it('keeps the given hosts (in their order) that match the limit', () => {
    expect(limitHosts(inv, ['vm3', 'vm1', 'lonely'], 'kafka')).toEqual(['vm3', 'vm1']);
    expect(limitHosts(inv, ['vm3', 'vm1'], undefined)).toEqual(['vm3', 'vm1']);
    expect(limitHosts(inv, ['vm1', 'vm2', 'vm4'], 'data:!vm2')).toEqual(['vm1', 'vm4']);
  });

  it('reads @file with one pattern per line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orch-limit-')), 'retry');
    writeFileSync(file, 'vm2\nvm4\n');
    expect(limitHosts(inv, all, `@${file}`)).toEqual(['vm2', 'vm4']);
  });
});
