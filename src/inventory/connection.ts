/**
 * How orch reaches a host, from its resolved variables. Ansible names win over orch's short aliases:
 *   address      ansible_host / ansible_ssh_host / host           (default: the inventory name)
 *   port         ansible_port / ansible_ssh_port / port           (default 22)
 *   user         ansible_user / ansible_ssh_user / user           (default: the current OS user)
 *   key file     ansible_ssh_private_key_file / ansible_private_key_file / private_key_file
 *   password     ansible_password / ansible_ssh_pass
 *   become       ansible_become / become (default false), ansible_become_user,
 *                ansible_become_password / ansible_become_pass
 *   jump hosts   orch `jump` (`user@host:port`, a list of them, or {host, port, user, private_key_file}),
 *                else `-J a,b` / `-o ProxyJump=a,b` / `-o ProxyCommand="ssh -W %h:%p [user@]host"`
 *                in ansible_ssh_common_args or ansible_ssh_extra_args; a jump host's user defaults to
 *                the current OS user, as with `ssh -J`
 *   known_hosts  orch_known_hosts
 *   timeout      ansible_ssh_timeout / ansible_timeout / connect_timeout seconds (default 10)
 * Numbers and booleans may also be strings (`"2222"`, `"yes"`), as rendered templates are. `~` in paths
 * is expanded. Bad values throw an InputError naming the variable (and its origin when given).
 */
import { userInfo } from 'node:os';
import { InputError } from '../core/errors.js';
import type { InputProblem } from '../core/errors.js';
import { shlexSplit } from './ini-value.js';
import { expandHome } from './paths.js';
import type { ConnectionSpec, VarOrigin } from './types.js';

type Jump = ConnectionSpec['jump'][number];

export function connectionSpec(hostName: string, vars: Record<string, unknown>, origins: Record<string, VarOrigin> = {}): ConnectionSpec {
  const problems: InputProblem[] = [];
  const bad = (key: string, message: string) => {
    const o = origins[key];
    problems.push({ file: o?.file ?? `host ${hostName}`, line: o?.line, key: o?.key ?? key, message });
  };
  const pick = (...keys: string[]): [string, unknown] | undefined => {
    for (const k of keys) if (vars[k] !== undefined && vars[k] !== null) return [k, vars[k]];
    return undefined;
  };
  const str = (...keys: string[]): string | undefined => {
    const p = pick(...keys);
    if (!p) return undefined;
    if (typeof p[1] === 'string' || typeof p[1] === 'number') return String(p[1]);
    bad(p[0], `expected a string, got ${typeof p[1]}`);
    return undefined;
  };
  const port = (key: string, v: unknown): number => {
    const n = toInt(v);
    if (n === undefined || n < 1 || n > 65535) {
      bad(key, `expected a port 1..65535, got ${JSON.stringify(v)}`);
      return 22;
    }
    return n;
  };

  const portVar = pick('ansible_port', 'ansible_ssh_port', 'port');
  const becomeVar = pick('ansible_become', 'become');
  let become = false;
  if (becomeVar) {
    const b = toBool(becomeVar[1]);
    if (b === undefined) bad(becomeVar[0], `expected a boolean, got ${JSON.stringify(becomeVar[1])}`);
    else become = b;
  }
  const timeoutVar = pick('ansible_ssh_timeout', 'ansible_timeout', 'connect_timeout');
  let timeout = 10;
  if (timeoutVar) {
    const t = typeof timeoutVar[1] === 'string' && timeoutVar[1].trim() !== '' ? Number(timeoutVar[1]) : timeoutVar[1];
    if (typeof t !== 'number' || !(t > 0)) bad(timeoutVar[0], `expected a number of seconds > 0, got ${JSON.stringify(timeoutVar[1])}`);
    else timeout = t;
  }
  const keyFile = str('ansible_ssh_private_key_file', 'ansible_private_key_file', 'private_key_file');
  const knownHosts = str('orch_known_hosts');

  let jump: Jump[] = [];
  try {
    jump = jumpHosts(vars);
  } catch (e) {
    bad(pick('jump') ? 'jump' : pick('ansible_ssh_common_args') ? 'ansible_ssh_common_args' : 'ansible_ssh_extra_args', (e as Error).message);
  }

  const spec: ConnectionSpec = {
    host: hostName,
    address: str('ansible_host', 'ansible_ssh_host', 'host') ?? hostName,
    port: portVar ? port(portVar[0], portVar[1]) : 22,
    user: str('ansible_user', 'ansible_ssh_user', 'user') ?? currentUser(),
    privateKeyFile: keyFile === undefined ? undefined : expandHome(keyFile),
    password: str('ansible_password', 'ansible_ssh_pass'),
    become,
    becomeUser: str('ansible_become_user'),
    becomePassword: str('ansible_become_password', 'ansible_become_pass'),
    jump,
    knownHostsFile: knownHosts === undefined ? undefined : expandHome(knownHosts),
    connectTimeoutMs: Math.round(timeout * 1000),
  };
  if (problems.length) throw new InputError(problems);
  return spec;
}

/** The jump chain, outermost first: orch's `jump` variable, else what the ssh args say. */
export function jumpHosts(vars: Record<string, unknown>): Jump[] {
  const j = vars.jump;
  if (j !== undefined && j !== null && j !== '') {
    const list = Array.isArray(j) ? j : [j];
    return list.map((hop, i) => {
      if (typeof hop === 'string') return parseJump(hop);
      if (typeof hop === 'object' && hop !== null && typeof (hop as { host?: unknown }).host === 'string') {
        const o = hop as { host: string; port?: unknown; user?: unknown; private_key_file?: unknown };
        const p = o.port === undefined ? 22 : toInt(o.port);
        if (p === undefined || p < 1 || p > 65535) throw new Error(`jump host ${i + 1}: bad port ${JSON.stringify(o.port)}`);
        const hopSpec: Jump = { address: o.host, port: p, user: typeof o.user === 'string' ? o.user : currentUser() };
        if (typeof o.private_key_file === 'string') hopSpec.privateKeyFile = expandHome(o.private_key_file);
        return hopSpec;
      }
      throw new Error(`jump host ${i + 1}: expected 'user@host:port' or {host, port, user, private_key_file}`);
    });
  }
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const args = vars[key];
    if (typeof args === 'string') {
      const found = jumpFromSshArgs(args);
      if (found.length) return found;
    }
  }
  return [];
}

/** `-J a,b`, `-Ja`, `-o ProxyJump=a,b`, `-o 'ProxyJump a'`, `-oProxyCommand="ssh -W %h:%p -p 2222 u@b"`. */
export function jumpFromSshArgs(args: string): Jump[] {
  const words = shlexSplit(args, false);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '-J' || (w.startsWith('-J') && w.length > 2)) {
      const value = w === '-J' ? words[++i] : w.slice(2);
      if (!value) throw new Error('-J without a jump host');
      return value.split(',').map(parseJump);
    }
    if (w === '-o' || w.startsWith('-o')) {
      const opt = w === '-o' ? (words[++i] ?? '') : w.slice(2);
      const m = /^(\w+)\s*(?:=|\s)\s*(.*)$/s.exec(opt.trim());
      if (!m) continue;
      const name = m[1].toLowerCase();
      if (name === 'proxyjump' && m[2].toLowerCase() !== 'none') return m[2].split(',').map(parseJump);
      if (name === 'proxycommand' && m[2].toLowerCase() !== 'none') return [fromProxyCommand(m[2])];
    }
  }
  return [];
}

/** `[user@]host[:port]`, `[user@][ipv6]:port` or `ssh://[user@]host[:port]`. */
export function parseJump(text: string): Jump {
  const t = text.trim().replace(/^ssh:\/\//, '');
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new Error(`cannot read jump host '${text}'; expected user@host:port`);
  const port = m[3] ? Number(m[3]) : 22;
  if (port < 1 || port > 65535) throw new Error(`jump host '${text}': port out of range`);
  return { address: m[2].replace(/^\[(.*)\]$/, '$1'), port, user: m[1] ?? currentUser() };
}

/** Only the common `ssh -W %h:%p [-p port] [-i key] [-l user] [user@]host` form can be used natively. */
function fromProxyCommand(cmd: string): Jump {
  const words = shlexSplit(cmd, false);
  if (!/(^|\/)ssh$/.test(words[0] ?? '') || !words.includes('-W')) {
    throw new Error(`unsupported ProxyCommand '${cmd}'; use -J user@host:port or the orch variable jump`);
  }
  let port: number | undefined;
  let user: string | undefined;
  let key: string | undefined;
  let dest: string | undefined;
  const withArg = new Set(['-W', '-p', '-i', '-l', '-o', '-F', '-b', '-c', '-D', '-E', '-e', '-L', '-m', '-R', '-S']);
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (withArg.has(w)) {
      const v = words[++i];
      if (w === '-p') port = toInt(v);
      if (w === '-i') key = v;
      if (w === '-l') user = v;
    } else if (!w.startsWith('-')) dest = w;
  }
  if (!dest) throw new Error(`no jump host in ProxyCommand '${cmd}'`);
  const hop = parseJump(dest);
  if (port !== undefined) hop.port = port;
  if (user !== undefined && !dest.includes('@')) hop.user = user;
  if (key !== undefined) hop.privateKeyFile = expandHome(key);
  return hop;
}

function toInt(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (['true', 'yes', 'on', 'y', '1'].includes(s)) return true;
  if (['false', 'no', 'off', 'n', '0', ''].includes(s)) return false;
  return undefined;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}
