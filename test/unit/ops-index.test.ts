import { describe, expect, it } from 'vitest';
import { ops } from '../../src/ops/index.js';

describe('ops namespace', () => {
  it('exports every operation', () => {
    expect(Object.keys(ops).sort()).toEqual(
      ['artifact', 'command', 'dir', 'file', 'group', 'healthCheck', 'instances', 'limits', 'lineInFile', 'packages', 'nodePackage', 'prune', 'pythonVenv', 'reloadThroughApi', 'service', 'symlink', 'sysctl', 'unit', 'user', 'waitForHttp', 'waitForPort'].sort(),
    );
  });
  it('fact keys identify the command: same key, same command', () => {
    const a = ops.file({ path: '/etc/a', content: 'x' });
    const b = ops.file({ path: '/etc/a', content: 'y', mode: 0o600 });
    expect(a.fact!.key).toBe(b.fact!.key);
    expect(a.fact!.command).toBe(b.fact!.command);
    expect(ops.dir({ path: '/etc/a' }).fact!.key).not.toBe(a.fact!.key);
  });
});
