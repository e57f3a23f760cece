/**
 * Files that hold secrets are 0600/0640 (or stricter) and owned by root or their service: checked after every
 * converging run of every integration test (test/helpers/run.ts calls `assertSecretFilesKept`).
 *
 * The files are the ones the run's events name: every whole-file operation (file, unit, limits, sysctl, instance
 * drop-in), every lineInFile and the engine's copies of cluster values (`<stateDir>/values/<name>`), ok or changed.
 * On each host, as root, one script reports their mode, owner, group and content, and the accounts of the host; on
 * the controller, a file whose content holds one of the run's secret values (plan.secretValues) must have
 *   - no bit outside 0640: nothing for others, no group write, no execute, no setuid/setgid/sticky;
 *   - an owner that is root, a system account or a user the run manages (its service), not a login user;
 *   - when group-readable, a group without a login user in it (by membership or as primary group).
 * A login user is an account with uid >= UID_MIN (/etc/login.defs, 1000) other than nobody, that the run's user
 * operations on the host do not manage. The script carries no secret: it fetches content (base64) and the
 * controller compares, so no secret value is ever on a command line of the target.
 */
import type { RunEvent } from '../../src/report/events.js';
import { q } from '../../src/ops/quote.js';
import { storePath } from '../../src/role/cluster.js';
import { DEFAULT_STATE_DIR } from '../../src/runner/run.js';
import type { Connection } from '../../src/transport/types.js';

/** operation kinds that write a whole file, named by its path */
const WHOLE_FILE_KINDS = new Set(['file', 'unit', 'limits', 'sysctl', 'instance']);
/** larger files are not fetched (none orch writes with an op is near this; artifacts are not such ops) */
export const MAX_FETCH_BYTES = 4 * 1024 * 1024;

/** The paths of the files the run's operations keep, per host (ok and changed operations). */
export function writtenFiles(events: RunEvent[], stateDir = DEFAULT_STATE_DIR): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (host: string, path: string) => {
    if (!path.startsWith('/')) return;
    if (!out.has(host)) out.set(host, new Set());
    out.get(host)!.add(path);
  };
  for (const e of events) {
    if (e.type !== 'op-result' || (e.result.status !== 'ok' && e.result.status !== 'changed')) continue;
    const { kind, name } = e.result;
    if (WHOLE_FILE_KINDS.has(kind)) add(e.host, name);
    else if (kind === 'lineInFile') add(e.host, name.slice(0, name.indexOf(': ') < 0 ? name.length : name.indexOf(': ')));
    else if (kind === 'cluster-value') add(e.host, storePath(stateDir, name));
  }
  return out;
}

/** users the run's user operations manage on each host (service users) */
export function managedUsers(events: RunEvent[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.type !== 'op-result' || e.result.kind !== 'user' || e.result.status === 'failed' || e.result.status === 'skipped') continue;
    if (!out.has(e.host)) out.set(e.host, new Set());
    out.get(e.host)!.add(e.result.name);
  }
  return out;
}

export interface HostAccounts {
  /** name -> uid, primary gid */
  users: Map<string, { uid: number; gid: number }>;
  /** name -> gid, members */
  groups: Map<string, { gid: number; members: string[] }>;
  uidMin: number;
}

export interface FileState {
  path: string;
  mode: number;
  owner: string;
  group: string;
}

/** Login users of a host: uid >= UID_MIN, not nobody, not managed by the run (a service user orch creates). */
export function loginUsers(acc: HostAccounts, managed: Set<string> = new Set()): Set<string> {
  const out = new Set<string>();
  for (const [name, u] of acc.users) if (u.uid >= acc.uidMin && u.uid !== 65534 && name !== 'nobody' && !managed.has(name)) out.add(name);
  return out;
}

/** What is wrong with a file that holds a secret, or an empty list. */
export function judgeSecretFile(f: FileState, acc: HostAccounts, managed: Set<string> = new Set()): string[] {
  const problems: string[] = [];
  const mode = `0${(f.mode & 0o7777).toString(8).padStart(3, '0')}`;
  if (f.mode & 0o007) problems.push(`mode ${mode}: others may ${f.mode & 0o004 ? 'read' : 'access'} it`);
  if (f.mode & 0o020) problems.push(`mode ${mode}: its group may write it`);
  if (f.mode & 0o7111) problems.push(`mode ${mode}: executable or setuid/setgid/sticky`);
  const login = loginUsers(acc, managed);
  if (f.owner !== 'root' && login.has(f.owner)) problems.push(`owner ${f.owner} is a login user, not root or a service`);
  if (f.mode & 0o040) {
    const g = acc.groups.get(f.group);
    const inGroup = [...login].filter((u) => g?.members.includes(u) || (g !== undefined && acc.users.get(u)?.gid === g.gid));
    if (inGroup.length) problems.push(`group ${f.group} may read it and holds login user(s) ${inGroup.join(', ')}`);
  }
  return problems.map((p) => `${f.path}: ${p}`);
}

/** The script run on the host (as root): the files' state and content, the accounts. No secret in it. */
export function probeScript(paths: string[]): string {
  const lines = paths.map((p, i) => {
    const x = q(p);
    return `if [ -f ${x} ] && [ ! -L ${x} ]; then printf 'F|${i}|'; stat -c '%a|%U|%G|%s' ${x}; if [ "$(stat -c %s ${x})" -le ${MAX_FETCH_BYTES} ]; then printf 'C|${i}|'; base64 -w0 <${x}; echo; fi; fi`;
  });
  return [
    ...lines,
    "getent passwd | sed 's/^/P|/'",
    "getent group | sed 's/^/G|/'",
    "awk '$1 == \"UID_MIN\" { print \"U|\" $2 }' /etc/login.defs 2>/dev/null",
    'true',
  ].join('\n');
}

export interface Probed {
  files: Array<FileState & { content?: Buffer }>;
  accounts: HostAccounts;
}

export function parseProbe(paths: string[], stdout: string): Probed {
  const files = new Map<number, FileState & { content?: Buffer }>();
  const accounts: HostAccounts = { users: new Map(), groups: new Map(), uidMin: 1000 };
  for (const line of stdout.split('\n')) {
    const [tag, ...rest] = line.split('|');
    if (tag === 'F') {
      const [i, mode, owner, group] = rest;
      files.set(Number(i), { path: paths[Number(i)], mode: parseInt(mode, 8), owner, group });
    } else if (tag === 'C') {
      const f = files.get(Number(rest[0]));
      if (f) f.content = Buffer.from(rest.slice(1).join('|'), 'base64');
    } else if (tag === 'P') {
      const [name, , uid, gid] = rest.join('|').split(':');
      accounts.users.set(name, { uid: Number(uid), gid: Number(gid) });
    } else if (tag === 'G') {
      const [name, , gid, members] = rest.join('|').split(':');
      accounts.groups.set(name, { gid: Number(gid), members: (members ?? '').split(',').filter(Boolean) });
    } else if (tag === 'U' && /^\d+$/.test(rest[0] ?? '')) accounts.uidMin = Number(rest[0]);
  }
  return { files: [...files.values()], accounts };
}

/** how many converging runs (and files holding a secret) this worker's tests checked */
export const secretFilesChecked = { runs: 0, files: 0, distinct: new Set<string>(), unfetched: 0 };

/**
 * After a converging run: every file the run's operations keep that holds one of its secrets is 0600/0640 (or
 * stricter) and owned by root or its service. Throws naming each file and what is wrong with it.
 */
export async function assertSecretFilesKept(secretValues: Set<string>, events: RunEvent[], connect: (host: string) => Promise<Connection>): Promise<void> {
  const secrets = [...secretValues].filter((s) => s.length >= 3).map((s) => Buffer.from(s));
  if (!secrets.length) return;
  const written = writtenFiles(events);
  const managed = managedUsers(events);
  const problems: string[] = [];
  let files = 0;
  for (const [host, set] of written) {
    const paths = [...set].sort();
    const r = await (await connect(host)).runScript(probeScript(paths));
    if (r.code !== 0) throw new Error(`${host}: the secret-file probe failed (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
    const { files: states, accounts } = parseProbe(paths, r.stdout);
    for (const f of states) {
      if (!f.content) {
        secretFilesChecked.unfetched++;
        continue;
      }
      if (!secrets.some((s) => f.content!.includes(s))) continue;
      files++;
      secretFilesChecked.distinct.add(`${host}:${f.path}`);
      problems.push(...judgeSecretFile(f, accounts, managed.get(host)).map((p) => `${host}: ${p}`));
    }
  }
  if (problems.length) throw new Error(`files holding a secret are not kept private:\n  ${problems.join('\n  ')}`);
  secretFilesChecked.runs++;
  secretFilesChecked.files += files;
}
