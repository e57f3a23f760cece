/**
 * `group` and `user`: local accounts, facts from `getent`/`id`. Created with groupadd/useradd using the
 * same flags, in the same order, as Ansible's group/user modules (so the passwd/group lines are the
 * ones Ansible would give); existing accounts are changed with groupmod/usermod for exactly the fields
 * that differ. Supplementary `groups` are added (`usermod -a -G`), never removed.
 */
import type { Fact, Operation, Plan } from './types.js';
import { argv, q } from './quote.js';
import { matchPhrase, tagged } from './stat.js';

const NAME = /^[a-z_][a-z0-9_.-]*\$?$/i;

function assertName(kind: string, name: string): void {
  if (!NAME.test(name) || name.length > 32) throw new Error(`invalid ${kind} name ${JSON.stringify(name)}`);
}

export interface GroupOptions {
  name: string;
  gid?: number;
  system?: boolean;
}

/** `getent group` fields, or null when the group does not exist. */
export interface GroupFact {
  name: string;
  gid: number;
  members: string[];
}

function parseGroupLine(line: string): GroupFact | null {
  const parts = line.split(':');
  if (parts.length < 4) return null;
  return { name: parts[0], gid: Number(parts[2]), members: parts[3] ? parts[3].split(',') : [] };
}

export function group(o: GroupOptions): Operation<GroupFact | null> {
  assertName('group', o.name);
  const fact: Fact<GroupFact | null> = {
    key: `group:${o.name}`,
    command: `getent group ${q(o.name)}`,
    parse: (stdout, code) => (code === 0 ? parseGroupLine(stdout.split('\n')[0]) : null),
  };
  return {
    kind: 'group',
    name: o.name,
    fact,
    plan(f): Plan {
      if (!f) {
        const args = ['groupadd'];
        if (o.gid !== undefined) args.push('-g', String(o.gid));
        if (o.system) args.push('-r');
        args.push(o.name);
        const what = [o.system && 'system', o.gid !== undefined && `gid ${o.gid}`].filter(Boolean).join(', ');
        return { status: 'change', reason: `create group${what ? ` (${what})` : ''}`, script: argv(...args) };
      }
      if (o.gid !== undefined && f.gid !== o.gid) {
        return { status: 'change', reason: `gid ${f.gid} -> ${o.gid}`, script: argv('groupmod', '-g', o.gid, o.name) };
      }
      return { status: 'ok', reason: o.gid !== undefined ? `group exists with gid ${f.gid}` : 'group exists' };
    },
  };
}

export interface UserOptions {
  name: string;
  uid?: number;
  /** primary group (name or gid); it must exist. Unset: useradd's default (a group named like the user) */
  group?: string;
  /** supplementary groups to add the user to (never removed from others) */
  groups?: string[];
  home?: string;
  /** create the home directory when creating the user (useradd -m / -M); default true, as Ansible */
  createHome?: boolean;
  shell?: string;
  system?: boolean;
}

export interface UserFact {
  /** `getent passwd` fields; null: no such user */
  passwd: { name: string; uid: number; gid: number; gecos: string; home: string; shell: string } | null;
  /** primary group name (`id -gn`) */
  primaryGroup: string;
  /** all group names (`id -Gn`), primary included */
  groups: string[];
  /** a group named like the user exists (useradd then needs -N, as Ansible passes) */
  sameNameGroup: boolean;
}

export function userFact(name: string): Fact<UserFact> {
  const n = q(name);
  const command = [
    `if p=$(getent passwd ${n}); then printf 'P|%s\\n' "$p"; printf 'G|%s\\n' "$(id -gn ${n})"; printf 'A|%s\\n' "$(id -Gn ${n})"; fi`,
    `if getent group ${n} >/dev/null; then echo 'N|1'; fi`,
  ].join('\n');
  return {
    key: `user:${name}`,
    command,
    parse(stdout) {
      const p = tagged(stdout, 'P')[0];
      const parts = p?.split(':') ?? [];
      const passwd =
        p !== undefined && parts.length >= 7
          ? {
              name: parts[0],
              uid: Number(parts[2]),
              gid: Number(parts[3]),
              gecos: parts[4],
              home: parts[5],
              shell: parts.slice(6).join(':'),
            }
          : null;
      return {
        passwd,
        primaryGroup: tagged(stdout, 'G')[0] ?? '',
        groups: (tagged(stdout, 'A')[0] ?? '').split(' ').filter(Boolean),
        sameNameGroup: tagged(stdout, 'N').length > 0,
      };
    },
  };
}

export function user(o: UserOptions): Operation<UserFact> {
  assertName('user', o.name);
  if (o.group !== undefined && !/^[0-9]+$/.test(o.group)) assertName('group', o.group);
  o.groups?.forEach((g) => assertName('group', g));
  return {
    kind: 'user',
    name: o.name,
    fact: userFact(o.name),
    plan(f): Plan {
      if (!f.passwd) {
        // flags and order as Ansible's create_user_useradd
        const args = ['useradd'];
        if (o.uid !== undefined) args.push('-u', String(o.uid));
        if (o.group !== undefined) args.push('-g', o.group);
        else if (f.sameNameGroup) args.push('-N');
        if (o.groups?.length) args.push('-G', o.groups.join(','));
        if (o.home !== undefined) args.push('-d', o.home);
        if (o.shell !== undefined) args.push('-s', o.shell);
        args.push(o.createHome === false ? '-M' : '-m');
        if (o.system) args.push('-r');
        args.push(o.name);
        const what = [
          o.system && 'system',
          o.uid !== undefined && `uid ${o.uid}`,
          o.group !== undefined && `group ${o.group}`,
          o.groups?.length && `groups ${o.groups.join(',')}`,
          o.home !== undefined && `home ${o.home}`,
          o.shell !== undefined && `shell ${o.shell}`,
        ].filter(Boolean);
        const script = o.home !== undefined && o.createHome !== false
          ? `mkdir -p ${q(o.home.replace(/\/[^/]*\/?$/, '') || '/')}\n${argv(...args)}`
          : argv(...args);
        return { status: 'change', reason: `create user${what.length ? ` (${what.join(', ')})` : ''}`, script };
      }
      const pw = f.passwd;
      const args = ['usermod'];
      const diffs: string[] = [];
      if (o.uid !== undefined && pw.uid !== o.uid) {
        args.push('-u', String(o.uid));
        diffs.push(`uid ${pw.uid} -> ${o.uid}`);
      }
      if (o.group !== undefined && o.group !== f.primaryGroup && o.group !== String(pw.gid)) {
        args.push('-g', o.group);
        diffs.push(`group ${f.primaryGroup} -> ${o.group}`);
      }
      const missing = (o.groups ?? []).filter((g) => !f.groups.includes(g));
      if (missing.length) {
        args.push('-a', '-G', missing.join(','));
        diffs.push(`add to groups ${missing.join(', ')}`);
      }
      if (o.home !== undefined && pw.home !== o.home) {
        args.push('-d', o.home);
        diffs.push(`home ${pw.home} -> ${o.home}`);
      }
      if (o.shell !== undefined && pw.shell !== o.shell) {
        args.push('-s', o.shell);
        diffs.push(`shell ${pw.shell} -> ${o.shell}`);
      }
      if (diffs.length) {
        args.push(o.name);
        return { status: 'change', reason: diffs.join(', '), script: argv(...args) };
      }
      const managed = ['uid', 'group', 'groups', 'home', 'shell'].filter((k) => o[k as keyof UserOptions] !== undefined);
      return { status: 'ok', reason: managed.length ? `user exists, ${matchPhrase(managed)}` : 'user exists' };
    },
  };
}
