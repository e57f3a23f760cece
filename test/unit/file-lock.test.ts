import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/core/file-lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withFileLock', () => {
  it('runs callers one after the other and removes the lock afterwards', async () => {
    const lock = join(dir, 'x.lock');
    const order: string[] = [];
    const job = (name: string) =>
      withFileLock(
        lock,
        async () => {
          order.push(`${name} in`);
          await sleep(50);
          order.push(`${name} out`);
          return name;
        },
        { pollMs: 10 },
      );
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    // never two inside at once
    for (let i = 0; i < order.length; i += 2) {
      expect(order[i]).toMatch(/ in$/);
      expect(order[i + 1]).toBe(order[i].replace(' in', ' out'));
    }
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when the guarded work throws', async () => {
    const lock = join(dir, 'x.lock');
    await expect(withFileLock(lock, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
    expect(await withFileLock(lock, async () => 'next')).toBe('next');
  });

  it('takes over a lock whose process is gone', async () => {
    const lock = join(dir, 'x.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((r) => child.on('exit', () => r(child.pid!)));
    await mkdir(lock);
    await writeFile(join(lock, 'pid'), `${deadPid}\n`);
    const lines: string[] = [];
    expect(await withFileLock(lock, async () => 'mine', { pollMs: 10, log: (l) => lines.push(l) })).toBe('mine');
    expect(lines).toEqual([]);
  });

  it('waits for a live process holding the lock, and says so once', async () => {
    const lock = join(dir, 'x.lock');
    // another process holds the lock for 300 ms
    const holder = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');fs.mkdirSync(${JSON.stringify(lock)});fs.writeFileSync(${JSON.stringify(join(lock, 'pid'))},String(process.pid));` +
        `setTimeout(()=>{fs.rmSync(${JSON.stringify(lock)},{recursive:true});fs.writeFileSync(${JSON.stringify(join(dir, 'released'))},'1')},300)`,
    ]);
    while (!existsSync(join(lock, 'pid'))) await sleep(5);
    const lines: string[] = [];
    const got = await withFileLock(
      lock,
      async () => {
        // inside only after the holder let go
        return readFile(join(dir, 'released'), 'utf8');
      },
      { pollMs: 20, log: (l) => lines.push(l), what: 'the test cache' },
    );
    expect(got).toBe('1');
    expect(lines).toEqual([`waiting for process ${holder.pid}, which holds the test cache`]);
  });
});
