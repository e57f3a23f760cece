import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prune, pruneFact } from '../../src/ops/prune.js';
import { apply, converge, gather, planOf, tmp } from './ops-harness.js';

describe('prune', () => {
  it('the fact: the F| lines, names only, sorted; other output ignored', () => {
    const f = pruneFact('/etc/trino/catalog', '.properties');
    expect(f.key).toBe('prune:/etc/trino/catalog:.properties');
    expect(f.command).toBe(`for p in /etc/trino/catalog/*.properties; do { [ -f "$p" ] || [ -L "$p" ]; } && printf 'F|%s\\n' "\${p##*/}"; done; true`);
    expect(f.parse('F|tpch.properties\nF|iceberg.properties\nnoise\n\n', 0)).toEqual(['iceberg.properties', 'tpch.properties']);
    expect(f.parse('', 0)).toEqual([]);
    // a directory or suffix with odd characters is quoted
    expect(pruneFact("/srv/my dir/it's", '.conf').command).toContain(`for p in '/srv/my dir/it'\\''s'/*.conf; do`);
  });

  it('plans ok when only the kept files are there, else the exact rm script', () => {
    const op = prune({ dir: '/etc/trino/catalog', suffix: '.properties', keep: ['iceberg.properties', 'tpch.properties'], notify: ['trino@1'] });
    expect(op.kind).toBe('prune');
    expect(op.name).toBe('/etc/trino/catalog/*.properties');
    expect(op.notify).toEqual(['trino@1']);
    expect(op.plan([])).toEqual({ status: 'ok', reason: 'only iceberg.properties, tpch.properties' });
    expect(op.plan(['iceberg.properties'])).toEqual({ status: 'ok', reason: 'only iceberg.properties, tpch.properties' });
    expect(op.plan(['hive.properties', 'iceberg.properties', 'old.properties', 'tpch.properties'])).toEqual({
      status: 'change',
      reason: 'remove hive.properties, old.properties (not in the inventory)',
      script: 'rm -f /etc/trino/catalog/hive.properties\nrm -f /etc/trino/catalog/old.properties',
    });
    const none = prune({ dir: '/etc/x', suffix: '.conf', keep: [] });
    expect(none.plan([])).toEqual({ status: 'ok', reason: 'no *.conf' });
    expect(none.plan(['a.conf'])).toEqual({ status: 'change', reason: 'remove a.conf (not in the inventory)', script: 'rm -f /etc/x/a.conf' });
  });

  it('quotes odd names in the rm script', () => {
    const op = prune({ dir: '/etc/my conf.d', suffix: '.conf', keep: [] });
    const p = op.plan(["it's.conf", 'a b.conf', '$(reboot).conf', '-rf.conf']);
    expect(p).toMatchObject({ status: 'change' });
    expect(p.status === 'change' && p.script.split('\n')).toEqual([
      `rm -f '/etc/my conf.d/it'\\''s.conf'`,
      `rm -f '/etc/my conf.d/a b.conf'`,
      `rm -f '/etc/my conf.d/$(reboot).conf'`,
      `rm -f '/etc/my conf.d/-rf.conf'`,
    ]);
  });

  it('refuses invalid options', () => {
    expect(() => prune({ dir: 'etc/trino', suffix: '.properties', keep: [] })).toThrow(/absolute/);
    expect(() => prune({ dir: '/etc/trino', suffix: '', keep: [] })).toThrow('prune /etc/trino: suffix "" must be a plain file-name ending, e.g. .properties');
    expect(() => prune({ dir: '/etc/trino', suffix: '*', keep: [] })).toThrow(/suffix "\*" must be a plain file-name ending/);
    expect(() => prune({ dir: '/etc/trino', suffix: '.p roperties', keep: [] })).toThrow(/suffix/);
    expect(() => prune({ dir: '/etc/trino', suffix: '/x.properties', keep: [] })).toThrow(/suffix/);
    expect(() => prune({ dir: '/etc/trino', suffix: '.properties', keep: ['tpch.conf'] })).toThrow('prune /etc/trino: keep "tpch.conf" must be a file name ending in .properties');
    expect(() => prune({ dir: '/etc/trino', suffix: '.properties', keep: ['../x.properties'] })).toThrow(/keep "..\/x.properties" must be a file name/);
  });

  it('on this machine: deletes only the stale files with the suffix, then changes nothing', () => {
    const d = join(tmp('orch-prune-'), "cat dir's");
    mkdirSync(d);
    for (const f of ['iceberg.properties', 'tpch.properties', 'hive.properties', "o'dd name.properties", 'README', 'notes.properties.bak', '.hidden.properties']) writeFileSync(join(d, f), 'x');
    mkdirSync(join(d, 'sub.properties'));
    writeFileSync(join(d, 'sub.properties', 'inner.properties'), 'x');
    symlinkSync(join(d, 'missing-target'), join(d, 'dangling.properties'));
    const op = prune({ dir: d, suffix: '.properties', keep: ['iceberg.properties', 'tpch.properties'] });
    expect(gather(op.fact!)).toEqual(['dangling.properties', 'hive.properties', 'iceberg.properties', "o'dd name.properties", 'tpch.properties']);
    const [first, second] = converge(op);
    expect(first.reason).toBe(`remove dangling.properties, hive.properties, o'dd name.properties (not in the inventory)`);
    expect(second).toEqual({ status: 'ok', reason: 'only iceberg.properties, tpch.properties' });
    expect(readdirSync(d).sort()).toEqual(['.hidden.properties', 'README', 'iceberg.properties', 'notes.properties.bak', 'sub.properties', 'tpch.properties']);
    expect(existsSync(join(d, 'sub.properties', 'inner.properties'))).toBe(true);
  });

  it('on this machine: a missing directory is nothing to prune', () => {
    const op = prune({ dir: join(tmp('orch-prune-'), 'absent'), suffix: '.properties', keep: ['a.properties'] });
    expect(gather(op.fact!)).toEqual([]);
    expect(planOf(op)).toEqual({ status: 'ok', reason: 'only a.properties' });
  });

  it('on this machine: a name with a newline never makes it delete a file without the suffix', () => {
    const d = tmp('orch-prune-');
    writeFileSync(join(d, 'keep'), 'not managed');
    writeFileSync(join(d, 'keep\nx.properties'), 'x');
    const op = prune({ dir: d, suffix: '.properties', keep: [] });
    const p = planOf(op);
    if (p.status === 'change') expect(apply(p).code).toBe(0);
    expect(existsSync(join(d, 'keep'))).toBe(true);
    // nor one outside the directory: no file name holds a /, so such a line is no name
    expect(pruneFact(d, '.properties').parse('F|a\nF|../../etc/x.properties\nF|.properties\nF|b.properties\n', 0)).toEqual(['b.properties']);
  });
});
