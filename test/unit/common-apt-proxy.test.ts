/**
 * Role common's apt proxy snippet (apt_proxy): apt reads it as written (checked with this machine's apt-config when
 * it has one), with HTTP pipelining off and retries, so that an error answer of the proxy to one request is that
 * request's (retried) and does not leave `apt-get update` waiting forever (roles/common/render.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAptProxy } from '../../roles/common/render.js';

const hasAptConfig = spawnSync('sh', ['-c', 'command -v apt-config']).status === 0;

describe("role common's apt proxy snippet", () => {
  it('points http at the proxy, https direct, one request at a time, 3 retries', () => {
    expect(renderAptProxy('http://172.26.0.1:3142')).toBe(
      '// Managed by orch (role common)\nAcquire::http::Proxy "http://172.26.0.1:3142";\nAcquire::https::Proxy "DIRECT";\nAcquire::http::Pipeline-Depth "0";\nAcquire::Retries "3";\n',
    );
  });

  it.runIf(hasAptConfig)('is read by apt as written (apt-config dump)', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'orch-apt-')), 'apt.conf');
    writeFileSync(f, renderAptProxy('http://mirror.example:3142'));
    const r = spawnSync('apt-config', ['dump'], { env: { ...process.env, APT_CONFIG: f }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const line of ['Acquire::http::Proxy "http://mirror.example:3142";', 'Acquire::https::Proxy "DIRECT";', 'Acquire::http::Pipeline-Depth "0";', 'Acquire::Retries "3";']) expect(r.stdout.split('\n')).toContain(line);
  });
});
