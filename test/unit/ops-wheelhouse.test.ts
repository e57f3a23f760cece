import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDigest, parseLock } from '../../src/ops/python-lock.js';
import { ensureWheelhouse } from '../../src/ops/wheelhouse.js';

describe('ensureWheelhouse', () => {
  it('a cached wheelhouse (same pins) is returned without running pip; a missing one runs it', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'orch-wh-'));
    const lock = join(cacheDir, 'lock.txt');
    await writeFile(lock, 'six==1.16.0\n');
    const digest = lockDigest(parseLock('six==1.16.0'));
    // python /bin/false: building fails, so the first call proves nothing is cached yet
    await expect(ensureWheelhouse(lock, { cacheDir, python: '/bin/false' })).rejects.toThrow();
    const root = join(cacheDir, 'wheelhouse', digest);
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'wheels.tar.sha256'), `${'c'.repeat(64)}\n`);
    const cached = await ensureWheelhouse(lock, { cacheDir, python: '/bin/false' });
    expect(cached).toEqual({ dir: join(root, 'wheels'), tar: join(root, 'wheels.tar'), sha256: 'c'.repeat(64), digest });
    // a comment or reordering does not change the key; a version bump does
    await writeFile(lock, '# c\nsix==1.16.0\n');
    expect((await ensureWheelhouse(lock, { cacheDir, python: '/bin/false' })).digest).toBe(digest);
    await writeFile(lock, 'six==1.17.0\n');
    await expect(ensureWheelhouse(lock, { cacheDir, python: '/bin/false' })).rejects.toThrow();
  });
});
