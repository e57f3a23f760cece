/**
 * The remote command that runs a script from stdin, wrapped in sudo when the connection becomes.
 *
 * Without a become password: `sudo -n -H [-u user] -- sh -s` (fails fast instead of prompting).
 * With one: `sudo -S -p '' -H [-u user] -- sh -c '<guard>'`, and stdin starts with the password line,
 * then a random nonce line, then the script. The password never appears in the command line. The
 * guard makes this safe whether or not sudo actually asks (NOPASSWD, cached credentials, root):
 * it reads one line and, unless that line is the nonce (sudo consumed the password), reads one
 * more, so the password line is never run as a command; then it `exec`s `sh -s` on the rest.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionSpec } from '../inventory/types.js';
import { q } from '../ops/quote.js';

export interface ExecCommand {
  /** the command line sent to sshd (no secrets in it) */
  command: string;
  /** bytes to write on stdin before the script (the become password and nonce, or nothing) */
  stdinPrefix: string;
}

export function scriptCommand(
  spec: Pick<ConnectionSpec, 'become' | 'becomeUser' | 'becomePassword'>,
  nonce: string = `orch-become-${randomBytes(12).toString('hex')}`,
): ExecCommand {
  if (!spec.become) return { command: 'sh -s', stdinPrefix: '' };
  const user = spec.becomeUser ? ` -u ${q(spec.becomeUser)}` : '';
  if (spec.becomePassword === undefined || spec.becomePassword === '') {
    return { command: `sudo -n -H${user} -- sh -s`, stdinPrefix: '' };
  }
  if (/[\r\n]/.test(spec.becomePassword)) throw new Error('become password must not contain a newline');
  const guard = `IFS= read -r l; [ "$l" = ${nonce} ] || IFS= read -r l; exec sh -s`;
  return {
    command: `sudo -S -p '' -H${user} -- sh -c ${q(guard)}`,
    stdinPrefix: `${spec.becomePassword}\n${nonce}\n`,
  };
}
