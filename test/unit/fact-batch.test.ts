import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { batchable, batchCommand, splitBatch } from '../../src/runner/fact-batch.js';
import { fileFact } from '../../src/ops/file.js';
import { dir } from '../../src/ops/dir.js';

const sh = (s: string) => spawnSync('sh', ['-c', s], { encoding: 'utf8' }).stdout;

describe('batched path facts', () => {
  it('give every fact exactly the stdout its own command prints', () => {
    const d = mkdtempSync(join(tmpdir(), 'orch-batch-'));
    writeFileSync(join(d, 'a file'), 'x\n');
    writeFileSync(join(d, 'empty'), '');
    mkdirSync(join(d, 'sub'));
    symlinkSync(join(d, 'a file'), join(d, 'link'));
    symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
    const facts = [
      ...['a file', 'empty', 'sub', 'link', 'dangling', 'missing'].map((n) => fileFact(join(d, n))),
      dir({ path: join(d, 'sub') }).fact!,
      dir({ path: join(d, 'missing-dir') }).fact!,
    ];
    expect(facts.every(batchable)).toBe(true);
    const split = splitBatch(sh(batchCommand(facts)), facts);
    facts.forEach((f, i) => {
      expect(split[i]).toBe(sh(f.command));
      expect(f.parse(split[i], 0)).toEqual(f.parse(sh(f.command), 0));
    });
    expect(split[0]).toMatch(/^S\|regular file\|.*\nH\|[0-9a-f]{64} {2}-\n$/);
    expect(split[5]).toBe('');
  });

  it('leaves out paths whose names would be ambiguous in stat or sha256sum output', () => {
    expect(batchable(fileFact('/etc/a|b'))).toBe(false);
    expect(batchable(fileFact('/etc/a\nb'))).toBe(false);
    expect(batchable(fileFact('/etc/a\\b'))).toBe(false);
    expect(batchable(dir({ path: '/data', owner: 'x', recursive: true }).fact!)).toBe(false);
  });
});
