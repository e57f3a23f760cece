import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { connectionSpec, jumpFromSshArgs, parseJump } from '../../src/inventory/connection.js';

const me = userInfo().username;

describe('connectionSpec', () => {
  it('uses defaults: the inventory name, port 22, the OS user, no become, 10 s', () => {
    expect(connectionSpec('vm1', {})).toEqual({
      host: 'vm1',
      address: 'vm1',
      port: 22,
      user: me,
      privateKeyFile: undefined,
      password: undefined,
      become: false,
      becomeUser: undefined,
      becomePassword: undefined,
      jump: [],
      knownHostsFile: undefined,
      connectTimeoutMs: 10_000,
    });
  });

  it('reads Ansible variables', () => {
    const s = connectionSpec('vm1', {
      ansible_host: '10.0.0.1',
      ansible_port: 2222,
      ansible_user: 'deploy',
      ansible_ssh_private_key_file: '~/.ssh/id_orch',
      ansible_password: 'pw',
      ansible_become: true,
      ansible_become_user: 'kafka',
      ansible_become_pass: 'sudo-pw',
      ansible_ssh_timeout: 30,
      orch_known_hosts: '~/kh',
    });
    expect(s).toMatchObject({
      address: '10.0.0.1',
      port: 2222,
      user: 'deploy',
      privateKeyFile: join(homedir(), '.ssh/id_orch'),
      password: 'pw',
      become: true,
      becomeUser: 'kafka',
      becomePassword: 'sudo-pw',
      knownHostsFile: join(homedir(), 'kh'),
      connectTimeoutMs: 30_000,
    });
  });

  it("reads orch's short aliases, Ansible names winning", () => {
    const s = connectionSpec('vm1', { host: 'h', port: 2200, user: 'u', private_key_file: '/k', become: 'yes', connect_timeout: '5' });
    expect(s).toMatchObject({ address: 'h', port: 2200, user: 'u', privateKeyFile: '/k', become: true, connectTimeoutMs: 5000 });
    const both = connectionSpec('vm1', { host: 'h', ansible_host: 'a', port: 1, ansible_port: 2, user: 'u', ansible_user: 'au', become: true, ansible_become: false });
    expect(both).toMatchObject({ address: 'a', port: 2, user: 'au', become: false });
    expect(connectionSpec('vm1', { ansible_become_password: 'x', ansible_become_pass: 'y' }).becomePassword).toBe('x');
  });

  it('accepts numbers and booleans as strings (rendered templates)', () => {
    expect(connectionSpec('vm1', { ansible_port: '2022', ansible_become: 'True' })).toMatchObject({ port: 2022, become: true });
  });

  it('throws an InputError naming the variable and its origin', () => {
    try {
      connectionSpec('vm1', { ansible_port: 'x', ansible_become: 'maybe' }, { ansible_port: { file: 'hosts.yml', line: 4, key: 'all.hosts.vm1.ansible_port' } });
      throw new Error('expected an InputError');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).problems).toEqual([
        { file: 'host vm1', line: undefined, key: 'ansible_become', message: 'expected a boolean, got "maybe"' },
        { file: 'hosts.yml', line: 4, key: 'all.hosts.vm1.ansible_port', message: 'expected a port 1..65535, got "x"' },
      ]);
    }
  });

  it('reads jump hosts from -J in ansible_ssh_common_args, outermost first', () => {
    const s = connectionSpec('vm1', { ansible_ssh_common_args: '-o StrictHostKeyChecking=no -J ops@bastion:2222,admin@10.0.0.254' });
    expect(s.jump).toEqual([
      { address: 'bastion', port: 2222, user: 'ops' },
      { address: '10.0.0.254', port: 22, user: 'admin' },
    ]);
  });

  it('reads jump hosts from the orch variable jump (string, list, objects), before ssh args', () => {
    expect(connectionSpec('vm1', { jump: 'ops@b:2200', ansible_ssh_common_args: '-J x@y' }).jump).toEqual([{ address: 'b', port: 2200, user: 'ops' }]);
    expect(
      connectionSpec('vm1', { jump: ['ops@b1', { host: 'b2', port: 2201, user: 'u2', private_key_file: '~/k2' }, { host: 'b3' }] }).jump,
    ).toEqual([
      { address: 'b1', port: 22, user: 'ops' },
      { address: 'b2', port: 2201, user: 'u2', privateKeyFile: join(homedir(), 'k2') },
      { address: 'b3', port: 22, user: me },
    ]);
    expect(() => connectionSpec('vm1', { jump: [{ port: 1 }] })).toThrow(InputError);
  });
});

describe('jump host parsing', () => {
  it('parses user@host:port, defaults, IPv6 and ssh:// forms', () => {
    expect(parseJump('bastion')).toEqual({ address: 'bastion', port: 22, user: me });
    expect(parseJump('ssh://ops@b:2022')).toEqual({ address: 'b', port: 2022, user: 'ops' });
    expect(parseJump('ops@[2001:db8::1]:2022')).toEqual({ address: '2001:db8::1', port: 2022, user: 'ops' });
    expect(() => parseJump('a@b:c:d')).toThrow(/cannot read jump host/);
  });

  it('finds -J, -Jx, -o ProxyJump=, -o "ProxyJump x" and ssh -W ProxyCommands', () => {
    expect(jumpFromSshArgs('-Jops@b')).toEqual([{ address: 'b', port: 22, user: 'ops' }]);
    expect(jumpFromSshArgs('-o ProxyJump=ops@b:2,c')).toEqual([
      { address: 'b', port: 2, user: 'ops' },
      { address: 'c', port: 22, user: me },
    ]);
    expect(jumpFromSshArgs("-o 'ProxyJump ops@b'")).toEqual([{ address: 'b', port: 22, user: 'ops' }]);
    expect(jumpFromSshArgs('-o ProxyCommand="ssh -W %h:%p -q -p 2022 -i ~/k ops@bastion"')).toEqual([
      { address: 'bastion', port: 2022, user: 'ops', privateKeyFile: join(homedir(), 'k') },
    ]);
    expect(() => jumpFromSshArgs('-o ProxyCommand="nc -x proxy %h %p"')).toThrow(/unsupported ProxyCommand/);
    expect(jumpFromSshArgs('-o StrictHostKeyChecking=no -o ProxyJump=none')).toEqual([]);
  });
});
