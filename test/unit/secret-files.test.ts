/**
 * The suite-wide check of files holding secrets (test/helpers/secret-files.ts), which every converging run of every
 * integration test goes through: which files a run's events name, what makes a file holding a secret wrong, and the
 * whole check on this machine (the probe script run by sh on real files, the judgement on the controller).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OpResult } from '../../src/ops/types.js';
import type { RunEvent } from '../../src/report/events.js';
import { localConnection } from '../../src/transport/local.js';
import { assertSecretFilesKept, judgeSecretFile, secretFilesChecked, writtenFiles, type HostAccounts } from '../helpers/secret-files.js';

const op = (host: string, kind: string, name: string, status: OpResult['status'] = 'changed'): RunEvent => ({ type: 'op-result', phase: 'p', host, result: { kind, name, status, reason: '' } });

const accounts: HostAccounts = {
  uidMin: 1000,
  users: new Map([
    ['root', { uid: 0, gid: 0 }],
    ['redis', { uid: 105, gid: 110 }],
    ['postgres', { uid: 106, gid: 111 }],
    ['deploy', { uid: 1000, gid: 1000 }],
    ['kafka', { uid: 1001, gid: 1001 }],
    ['nobody', { uid: 65534, gid: 65534 }],
  ]),
  groups: new Map([
    ['root', { gid: 0, members: [] }],
    ['redis', { gid: 110, members: [] }],
    ['postgres', { gid: 111, members: [] }],
    ['deploy', { gid: 1000, members: [] }],
    ['adm', { gid: 4, members: ['deploy'] }],
    ['kafka', { gid: 1001, members: [] }],
  ]),
};

describe('files holding secrets (the suite-wide check)', () => {
  it("the files a run keeps, from its events: whole-file ops by path, lineInFile's path, the engine's copies of cluster values; not failed or skipped ones", () => {
    const events: RunEvent[] = [
      op('h1', 'file', '/etc/redis/orch.conf'),
      op('h1', 'unit', '/etc/systemd/system/x.service', 'ok'),
      op('h1', 'lineInFile', '/etc/redis/redis.conf: include /etc/redis/orch.conf'),
      op('h1', 'cluster-value', 'redis_password', 'ok'),
      op('h1', 'file', '/etc/failed.conf', 'failed'),
      op('h1', 'file', '/etc/skipped.conf', 'skipped'),
      op('h1', 'command', 'redis-cli ping'),
      op('h2', 'sysctl', '/etc/sysctl.d/90-x.conf'),
      op('h2', 'limits', '/etc/security/limits.d/90-x.conf'),
      op('h2', 'instance', '/etc/systemd/system/w@1.service.d/orch-instance.conf'),
    ];
    const w = writtenFiles(events);
    expect([...w.get('h1')!].sort()).toEqual(['/etc/redis/orch.conf', '/etc/redis/redis.conf', '/etc/systemd/system/x.service', '/var/lib/orch/values/redis_password']);
    expect([...w.get('h2')!].sort()).toEqual(['/etc/security/limits.d/90-x.conf', '/etc/sysctl.d/90-x.conf', '/etc/systemd/system/w@1.service.d/orch-instance.conf']);
  });

  it('0600 and 0640 (and stricter) owned by root or a service pass; world bits, group write, execute, a login owner or a login user in a reading group fail', () => {
    const judge = (mode: number, owner = 'root', group = 'root', managed?: Set<string>) => judgeSecretFile({ path: '/f', mode, owner, group }, accounts, managed);
    expect(judge(0o600)).toEqual([]);
    expect(judge(0o640, 'root', 'redis')).toEqual([]);
    expect(judge(0o600, 'postgres', 'postgres')).toEqual([]);
    expect(judge(0o400)).toEqual([]);
    expect(judge(0o640, 'nobody', 'nogroup')).toEqual([]);
    expect(judge(0o644, 'root', 'redis')).toEqual(['/f: mode 0644: others may read it']);
    expect(judge(0o601)).toEqual(['/f: mode 0601: others may access it', '/f: mode 0601: executable or setuid/setgid/sticky']);
    expect(judge(0o660, 'root', 'redis')).toEqual(['/f: mode 0660: its group may write it']);
    expect(judge(0o700)).toEqual(['/f: mode 0700: executable or setuid/setgid/sticky']);
    expect(judge(0o600, 'deploy', 'root')).toEqual(['/f: owner deploy is a login user, not root or a service']);
    expect(judge(0o640, 'root', 'adm')).toEqual(['/f: group adm may read it and holds login user(s) deploy']);
    expect(judge(0o640, 'root', 'deploy')).toEqual(['/f: group deploy may read it and holds login user(s) deploy']);
    expect(judge(0o600, 'root', 'adm')).toEqual([]); // the group cannot read it
    // a service user orch manages (uid >= 1000: created without --system) is its service, not a login user
    expect(judge(0o640, 'kafka', 'kafka')).toEqual(['/f: owner kafka is a login user, not root or a service', '/f: group kafka may read it and holds login user(s) kafka']);
    expect(judge(0o640, 'kafka', 'kafka', new Set(['kafka']))).toEqual([]);
  });

  it('on this machine: a file holding a secret at 0644 fails the check naming it; at 0640 it passes and is counted; a file without one is not judged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-secret-files-'));
    const secret = 'Secret-Value-For-Files-7';
    writeFileSync(join(dir, 'app.conf'), `user=app\npassword=${secret}\n`);
    writeFileSync(join(dir, 'plain.conf'), 'nothing secret\n');
    chmodSync(join(dir, 'app.conf'), 0o644);
    chmodSync(join(dir, 'plain.conf'), 0o644);
    const events = [op('local', 'file', join(dir, 'app.conf')), op('local', 'file', join(dir, 'plain.conf'), 'ok'), op('local', 'file', join(dir, 'absent.conf'), 'ok')];
    const connect = async () => localConnection('local');
    await expect(assertSecretFilesKept(new Set([secret]), events, connect)).rejects.toThrow(`files holding a secret are not kept private:\n  local: ${join(dir, 'app.conf')}: mode 0644: others may read it`);
    chmodSync(join(dir, 'app.conf'), 0o640);
    const before = { ...secretFilesChecked };
    await assertSecretFilesKept(new Set([secret]), events, connect);
    expect(secretFilesChecked.runs - before.runs).toBe(1);
    expect(secretFilesChecked.files - before.files).toBe(1);
    expect(secretFilesChecked.distinct.has(`local:${join(dir, 'app.conf')}`)).toBe(true);
    // no secret in the run: nothing to look at, no round trip
    await assertSecretFilesKept(new Set(), events, async () => {
      throw new Error('no connection expected');
    });
  });
});
