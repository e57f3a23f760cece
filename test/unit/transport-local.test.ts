import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localConnection } from '../../src/transport/local.js';

describe('localConnection', () => {
  const conn = localConnection();

  it('is named localhost by default', () => {
    expect(conn.host).toBe('localhost');
    expect(localConnection('vm1').host).toBe('vm1');
  });

  it('returns byte-exact stdout and stderr (trailing spaces and newlines kept)', async () => {
    const r = await conn.runScript(`printf '  a b  \\n\\n\\n'\nprintf 'err  \\n' >&2\nprintf 'ü€'\n`);
    expect(r).toEqual({ stdout: '  a b  \n\n\nü€', stderr: 'err  \n', code: 0 });
  });

  it('reports exit codes and reads a long script from stdin', async () => {
    expect((await conn.runScript('exit 7')).code).toBe(7);
    const script = Array.from({ length: 5000 }, (_, i) => `echo ${i}`).join('\n') + '\n';
    const r = await conn.runScript(script);
    expect(r.stdout.split('\n')).toHaveLength(5001);
    expect(r.stdout.endsWith('4999\n')).toBe(true);
  });

  it('times out with exit code 124', async () => {
    const r = await conn.runScript('echo started; sleep 5', { timeoutMs: 200 });
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('started\n');
    expect(r.stderr).toMatch(/timed out/);
  });

  it('putFile copies and sets the mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-local-'));
    writeFileSync(join(dir, 'a'), 'content \n');
    await conn.putFile(join(dir, 'a'), join(dir, 'b'), { mode: 0o640 });
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('content \n');
    expect(statSync(join(dir, 'b')).mode & 0o777).toBe(0o640);
    await expect(conn.putFile(join(dir, 'missing'), join(dir, 'c'))).rejects.toThrow(/ENOENT/);
  });
});
