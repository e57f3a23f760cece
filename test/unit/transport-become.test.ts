import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { scriptCommand } from '../../src/transport/become.js';

const base = { become: false, becomeUser: undefined, becomePassword: undefined };

describe('scriptCommand (sudo wrapper)', () => {
  it('runs plain sh -s without become', () => {
    expect(scriptCommand(base)).toEqual({ command: 'sh -s', stdinPrefix: '' });
  });

  it('uses non-interactive sudo without a password', () => {
    expect(scriptCommand({ ...base, become: true })).toEqual({ command: 'sudo -n -H -- sh -s', stdinPrefix: '' });
    expect(scriptCommand({ ...base, become: true, becomeUser: 'kafka' }).command).toBe('sudo -n -H -u kafka -- sh -s');
    expect(scriptCommand({ ...base, become: true, becomeUser: "we'ird" }).command).toBe(`sudo -n -H -u 'we'\\''ird' -- sh -s`);
  });

  it('sends the become password on stdin, never in the command line', () => {
    const password = "s3cr'et $(rm -rf /) pass";
    const { command, stdinPrefix } = scriptCommand({ ...base, become: true, becomeUser: 'app', becomePassword: password }, 'orch-become-N');
    expect(command).not.toContain('s3cr');
    expect(command).toMatch(/^sudo -S -p '' -H -u app -- sh -c /);
    expect(stdinPrefix).toBe(`${password}\norch-become-N\n`);
    // a fresh random nonce by default
    const a = scriptCommand({ ...base, become: true, becomePassword: 'x' });
    const b = scriptCommand({ ...base, become: true, becomePassword: 'x' });
    expect(a.command).not.toBe(b.command);
    expect(() => scriptCommand({ ...base, become: true, becomePassword: 'a\nb' })).toThrow(/newline/);
  });

  // The guard after sudo must never run the password line, whether or not sudo consumed it.
  const guard = (stdin: string) => {
    const { command, stdinPrefix } = scriptCommand({ ...base, become: true, becomePassword: 'hunter2' }, 'orch-become-N');
    const inner = command.replace(/^sudo .* -- /, ''); // what sudo would exec
    expect(stdinPrefix).toBe('hunter2\norch-become-N\n');
    return spawnSync('sh', ['-c', inner], { input: stdin, encoding: 'utf8' });
  };

  it('guard: sudo asked for the password (consumed the first line)', () => {
    const r = guard('orch-become-N\necho "ran  "\necho second\n');
    expect(r.stdout).toBe('ran  \nsecond\n');
    expect(r.stderr).toBe('');
  });

  it('guard: sudo did not ask (NOPASSWD, root): the password line is skipped, not executed', () => {
    const r = guard('hunter2\norch-become-N\necho ok\n');
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).not.toContain('hunter2');
  });
});
