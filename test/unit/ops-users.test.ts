// Plans and scripts only: nothing here creates or changes accounts. Facts (getent/id) are read-only.
import { describe, expect, it } from 'vitest';
import { group, user, type UserFact } from '../../src/ops/users.js';
import { gather } from './ops-harness.js';

describe('group', () => {
  it('parses getent', () => {
    const op = group({ name: 'kafka' });
    expect(op.fact!.parse('kafka:x:998:a,b\n', 0)).toEqual({ name: 'kafka', gid: 998, members: ['a', 'b'] });
    expect(op.fact!.parse('', 2)).toBeNull();
  });
  it('plans create / gid change / ok', () => {
    expect(group({ name: 'kafka', gid: 990, system: true }).plan(null)).toEqual({
      status: 'change',
      reason: 'create group (system, gid 990)',
      script: 'groupadd -g 990 -r kafka',
    });
    expect(group({ name: 'kafka' }).plan(null)).toMatchObject({ reason: 'create group', script: 'groupadd kafka' });
    const f = { name: 'kafka', gid: 1001, members: [] };
    expect(group({ name: 'kafka', gid: 990 }).plan(f)).toEqual({ status: 'change', reason: 'gid 1001 -> 990', script: 'groupmod -g 990 kafka' });
    expect(group({ name: 'kafka' }).plan(f)).toEqual({ status: 'ok', reason: 'group exists' });
  });
  it('real fact for root and a missing group', () => {
    expect(gather(group({ name: 'root' }).fact!)).toMatchObject({ name: 'root', gid: 0 });
    expect(gather(group({ name: 'no-such-group-orch' }).fact!)).toBeNull();
  });
  it('rejects bad names', () => {
    expect(() => group({ name: 'a b' })).toThrow(/invalid group name/);
    expect(() => group({ name: '-r' })).toThrow();
  });
});

describe('user', () => {
  const absent: UserFact = { passwd: null, primaryGroup: '', groups: [], sameNameGroup: false };
  const kafka: UserFact = {
    passwd: { name: 'kafka', uid: 998, gid: 998, gecos: '', home: '/home/kafka', shell: '/bin/sh' },
    primaryGroup: 'kafka',
    groups: ['kafka'],
    sameNameGroup: true,
  };
  it('parses the fact', () => {
    const op = user({ name: 'kafka' });
    const f = op.fact!.parse('P|kafka:x:998:998::/home/kafka:/bin/sh\nG|kafka\nA|kafka adm\nN|1\n', 0);
    expect(f).toEqual({ ...kafka, groups: ['kafka', 'adm'] });
    expect(op.fact!.parse('', 0)).toEqual(absent);
  });
  it('create: Ansible flags and order', () => {
    expect(
      user({ name: 'kafka', uid: 990, group: 'kafka', groups: ['adm'], home: '/opt/kafka', shell: '/usr/sbin/nologin', system: true, createHome: false }).plan(absent),
    ).toEqual({
      status: 'change',
      reason: 'create user (system, uid 990, group kafka, groups adm, home /opt/kafka, shell /usr/sbin/nologin)',
      script: 'useradd -u 990 -g kafka -G adm -d /opt/kafka -s /usr/sbin/nologin -M -r kafka',
    });
    // same-name group exists and no group given: -N, as Ansible
    expect(user({ name: 'kafka' }).plan({ ...absent, sameNameGroup: true })).toMatchObject({ script: 'useradd -N -m kafka' });
    // home with create: the parent must exist for useradd -m
    expect(user({ name: 'zk', home: '/srv/zk/home' }).plan(absent)).toMatchObject({ script: 'mkdir -p /srv/zk\nuseradd -d /srv/zk/home -m zk' });
  });
  it('modify only what differs', () => {
    const op = user({ name: 'kafka', uid: 990, group: 'kafka', groups: ['adm', 'kafka'], shell: '/usr/sbin/nologin', home: '/home/kafka' });
    expect(op.plan(kafka)).toEqual({
      status: 'change',
      reason: 'uid 998 -> 990, add to groups adm, shell /bin/sh -> /usr/sbin/nologin',
      script: 'usermod -u 990 -a -G adm -s /usr/sbin/nologin kafka',
    });
    expect(user({ name: 'kafka', group: 'adm', home: '/opt/kafka' }).plan(kafka)).toEqual({
      status: 'change',
      reason: 'group kafka -> adm, home /home/kafka -> /opt/kafka',
      script: 'usermod -g adm -d /opt/kafka kafka',
    });
  });
  it('ok', () => {
    expect(user({ name: 'kafka', uid: 998, group: '998', shell: '/bin/sh' }).plan(kafka)).toEqual({
      status: 'ok',
      reason: 'user exists, uid, group and shell match',
    });
    expect(user({ name: 'kafka' }).plan(kafka)).toEqual({ status: 'ok', reason: 'user exists' });
  });
  it('real fact for root and a missing user', () => {
    const f = gather(user({ name: 'root' }).fact!);
    expect(f.passwd).toMatchObject({ name: 'root', uid: 0, gid: 0, home: '/root' });
    expect(f.primaryGroup).toBe('root');
    expect(f.groups).toContain('root');
    expect(f.sameNameGroup).toBe(true);
    expect(gather(user({ name: 'no-such-user-orch' }).fact!)).toEqual(absent);
  });
});
