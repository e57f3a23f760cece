/**
 * PostgreSQL renderers and probes shared by the roles `postgresql` (plain servers) and `patroni` (HA): package names
 * and paths per OS family, memory settings sized from the host, postgresql.conf drop-ins, pg_hba.conf, setting
 * values compared the way pg_settings holds them, SCRAM-SHA-256 verifiers, and the idempotent roles/databases
 * operation (psql as the OS user postgres on the local socket; passwords sent as SCRAM verifiers on stdin, never in
 * argv, never printed).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HostFacts } from '../../src/role/define.js';
import type { Fact, Operation, Plan } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';

// ---------------------------------------------------------------------------------------------------------------
// packages and paths

export interface PgLayout {
  /** server package(s) to install */
  packages: string[];
  /** directory of postgres, initdb, pg_ctl */
  binDir: string;
  /** Unix socket directory */
  socketDir: string;
  /** unit of one instance, e.g. `postgresql@15-metadata.service` (Debian) or `postgresql-15-metadata.service` (RHEL) */
  unit(instance: string): string;
  /** default data directory of an instance */
  dataDir(instance: string): string;
  /** configuration directory of an instance (postgresql.conf, pg_hba.conf) */
  confDir(instance: string): string;
}

/**
 * Debian/Ubuntu: postgresql-common's clusters (`pg_createcluster 15 NAME`, config in /etc/postgresql/15/NAME/, unit
 * postgresql@15-NAME.service) are the distribution's own instance mechanism: pg_lsclusters, pg_upgradecluster and the
 * package's maintainer scripts know them. RHEL (PGDG packages): postgresqlNN-server, binaries in /usr/pgsql-NN/bin,
 * data (and config) in /var/lib/pgsql/NN/NAME, a unit per instance: a copy of postgresql-NN.service with its PGDATA.
 */
export function pgLayout(version: string, facts: Pick<HostFacts, 'osFamily'>): PgLayout {
  if (facts.osFamily === 'redhat') {
    return {
      packages: [`postgresql${version}-server`, `postgresql${version}`],
      binDir: `/usr/pgsql-${version}/bin`,
      socketDir: '/var/run/postgresql',
      unit: (i) => `postgresql-${version}-${i}.service`,
      dataDir: (i) => `/var/lib/pgsql/${version}/${i}`,
      confDir: (i) => `/var/lib/pgsql/${version}/${i}`,
    };
  }
  return {
    packages: [`postgresql-${version}`, `postgresql-client-${version}`],
    binDir: `/usr/lib/postgresql/${version}/bin`,
    socketDir: '/var/run/postgresql',
    unit: (i) => `postgresql@${version}-${i}.service`,
    dataDir: (i) => `/var/lib/postgresql/${version}/${i}`,
    confDir: (i) => `/etc/postgresql/${version}/${i}`,
  };
}

const CODENAMES: Record<string, string> = {
  'debian:11': 'bullseye',
  'debian:12': 'bookworm',
  'debian:13': 'trixie',
  'ubuntu:20.04': 'focal',
  'ubuntu:22.04': 'jammy',
  'ubuntu:24.04': 'noble',
};

/** The distribution codename apt.postgresql.org names its suites by (`bookworm-pgdg`). */
export function pgdgCodename(facts: Pick<HostFacts, 'osId' | 'osVersion'>): string {
  const major = facts.osId === 'ubuntu' ? facts.osVersion : facts.osVersion.split('.')[0];
  const c = CODENAMES[`${facts.osId}:${major}`];
  if (!c) throw new Error(`postgresql: no apt.postgresql.org suite known for ${facts.osId} ${facts.osVersion}; use the distribution's packages (postgresql_repository: distribution)`);
  return c;
}

/** The PostgreSQL project's apt source, signed by the key postgresql-common ships. */
export function pgdgAptSource(codename: string): string {
  return (
    '# Managed by orch: the PostgreSQL project\'s repository (apt.postgresql.org)\n' +
    `deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${codename}-pgdg main\n`
  );
}

/** RHEL: the PGDG repository RPM (and the distribution's postgresql module disabled, as PGDG says). */
export function pgdgYumSetup(facts: Pick<HostFacts, 'osVersion' | 'arch'>): string {
  const el = facts.osVersion.split('.')[0];
  return [
    `dnf install -y https://download.postgresql.org/pub/repos/yum/reporpms/EL-${el}-${facts.arch}/pgdg-redhat-repo-latest.noarch.rpm`,
    'dnf -qy module disable postgresql || true',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// memory sizing and settings

export interface MemorySettings {
  shared_buffers: string;
  effective_cache_size: string;
  work_mem: string;
  maintenance_work_mem: string;
}

/** `16384` MiB -> `16GB`, `300` -> `300MB`, `0.5` -> `512kB` (PostgreSQL's own unit spelling). */
export function pgSize(mb: number): string {
  if (mb >= 1024 && Number.isInteger(mb / 1024)) return `${mb / 1024}GB`;
  if (mb >= 1) return `${Math.floor(mb)}MB`;
  return `${Math.max(64, Math.floor(mb * 1024))}kB`;
}

/**
 * Sizes from the memory this instance may use (MiB), as datalyptica-enterprise-50vm.md sizes them: shared_buffers 25%
 * (64 GB -> 16 GB), effective_cache_size 75% (48 GB); work_mem (memory left after shared_buffers) / (3 x
 * max_connections), at least 4 MB; maintenance_work_mem memory / 16, at most 2 GB, at least 64 MB.
 */
export function memorySettings(memoryMb: number, maxConnections: number): MemorySettings {
  const mb = Math.max(128, Math.floor(memoryMb));
  const shared = Math.floor(mb / 4);
  return {
    shared_buffers: pgSize(shared),
    effective_cache_size: pgSize(Math.floor((mb * 3) / 4)),
    work_mem: pgSize(Math.max(4, Math.floor((mb - shared) / (3 * Math.max(1, maxConnections))))),
    maintenance_work_mem: pgSize(Math.min(2048, Math.max(64, Math.floor(mb / 16)))),
  };
}

export type PgValue = string | number | boolean;

/** A value as postgresql.conf writes it: numbers bare, everything else single-quoted. */
export function confValue(v: PgValue): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

const NAME = /^[a-z_][a-z0-9_.]*$/;

/** A postgresql.conf drop-in (conf.d/), keys sorted. */
export function renderConf(settings: Record<string, PgValue>, header: string): string {
  const lines = [`# ${header}`];
  for (const k of Object.keys(settings).sort()) {
    if (!NAME.test(k)) throw new Error(`postgresql: invalid parameter name ${JSON.stringify(k)}`);
    lines.push(`${k} = ${confValue(settings[k])}`);
  }
  return lines.join('\n') + '\n';
}

const MEM: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A desired value in the unit pg_settings reports it in (`setting` and `unit`): `256MB` with unit `8kB` -> `32768`,
 * `5min` with unit `s` -> `300`, `true`/`yes` -> `on`. Unknown shapes compare as lower-case strings.
 */
export function normalizeSetting(v: PgValue, unit: string): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  const s = String(v).trim();
  const lower = s.toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(lower) && unit === '') return /^\d+$/.test(s) ? s : 'on';
  if (['off', 'false', 'no', '0'].includes(lower) && unit === '') return /^\d+$/.test(s) ? s : 'off';
  const um = /^(\d+)?\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)$/.exec(unit);
  const vm = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z]+)?$/.exec(s);
  if (um && vm) {
    const table = unit.endsWith('B') ? MEM : TIME;
    const base = Number(um[1] ?? 1) * table[um[2]];
    const given = vm[2] ? table[vm[2]] : undefined;
    if (vm[2] && given === undefined) return lower;
    const n = Number(vm[1]);
    if (n === -1) return '-1';
    return String(Math.round(given === undefined ? n : (n * given) / base));
  }
  return lower;
}

// ---------------------------------------------------------------------------------------------------------------
// pg_hba

export interface HbaRule {
  type: 'local' | 'host' | 'hostssl' | 'hostnossl';
  database: string;
  user: string;
  /** for host rules: a CIDR (`10.20.0.0/24`), an address, or a host name */
  address?: string;
  method: string;
}

/** An address as pg_hba wants it: an IPv4 address gets /32, IPv6 /128; CIDRs and names stay. */
export function hbaAddress(a: string): string {
  if (a.includes('/')) return a;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) return `${a}/32`;
  if (a.includes(':')) return `${a}/128`;
  return a;
}

export function renderPgHba(rules: HbaRule[], header: string): string {
  const out = [`# ${header}`, '# TYPE  DATABASE        USER            ADDRESS                 METHOD'];
  for (const r of rules) {
    for (const f of [r.database, r.user, r.address ?? '', r.method]) if (/[\s#]/.test(f)) throw new Error(`pg_hba: invalid field ${JSON.stringify(f)}`);
    if (r.type === 'local') out.push(`${r.type.padEnd(7)} ${r.database.padEnd(15)} ${r.user.padEnd(15)} ${''.padEnd(23)} ${r.method}`.replace(/\s+$/, ''));
    else out.push(`${r.type.padEnd(7)} ${r.database.padEnd(15)} ${r.user.padEnd(15)} ${hbaAddress(r.address ?? '').padEnd(23)} ${r.method}`);
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// SCRAM-SHA-256 (RFC 5802 / 7677, PostgreSQL's pg_authid.rolpassword format)

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for a password (a fresh random salt unless given). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const server = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`;
}

/** Does a stored verifier belong to this password? (recomputed with its salt and iteration count) */
export function scramMatches(password: string, verifier: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (!m) return false;
  const mine = scramVerifier(password, Buffer.from(m[2], 'base64'), Number(m[1]));
  const a = Buffer.from(mine);
  const b = Buffer.from(verifier);
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------------------------
// psql

/** psql as the OS user postgres on the local socket (peer authentication), no psqlrc, stop at the first error. */
export function psql(o: { socketDir: string; port: number; binDir?: string; db?: string }): string {
  return `runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h ${q(o.socketDir)} -p ${o.port} -d ${q(o.db ?? 'postgres')}`;
}

/** An SQL identifier, double-quoted. */
export const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** An SQL string literal. */
export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface DatabaseSpec {
  name: string;
  owner: string;
}

export interface DbFact {
  /** the server answered */
  up: boolean;
  /** `guard`: 0 when it passed, else its exit code (undefined: no guard) */
  guard?: number;
  /** role name -> rolpassword ('' for none) */
  roles: Map<string, string>;
  /** database -> owner */
  databases: Map<string, string>;
}

export interface DatabasesOptions {
  /** shown as the op's name, e.g. `metadata: databases and owners` */
  name: string;
  socketDir: string;
  port: number;
  databases: DatabaseSpec[];
  /** owner -> password ('' or missing: no password is set, the role logs in by peer/trust rules only) */
  passwords: Record<string, string>;
  /**
   * POSIX sh, exits 0 where the databases are managed from (patroni: this member is the leader); other hosts skip.
   * Checked in the facts and again when applying (a new cluster elects its leader while the run applies).
   */
  guard?: { check: string; description: string; /** apply-time wait: exits 0 (manage here), 3 (not here), else keeps waiting */ wait?: string };
}

const RS = '\x1e';

/**
 * Roles and databases, idempotent: the facts list roles (with their SCRAM verifiers, compared with the passwords on
 * the controller), databases and owners; the change is SQL on psql's stdin (a quoted here-document: nothing in argv),
 * every statement guarded by an existence check, so a rerun after a partial apply is safe.
 */
export function databasesOp(o: DatabasesOptions): Operation<DbFact> {
  const owners = [...new Set(o.databases.map((d) => d.owner))];
  const listRoles = `select 'R|' || rolname || '|' || coalesce(rolpassword, '') from pg_authid where rolname in (${owners.map(lit).join(', ') || "''"})`;
  const listDbs = `select 'D|' || datname || '|' || pg_get_userbyid(datdba) from pg_database where datname in (${o.databases.map((d) => lit(d.name)).join(', ') || "''"})`;
  const query = `${psql(o)} -At -c ${q(`${listRoles} union all ${listDbs}`)}`;
  const guardPart = o.guard ? `(\n${o.guard.check}\n) >/dev/null 2>&1 </dev/null; echo "G|$?"\n` : '';
  const fact: Fact<DbFact> = {
    key: `pg-databases:${o.port}:${createHash('sha256').update(query + guardPart).digest('hex').slice(0, 16)}`,
    command: `${guardPart}if out=$(${query} 2>/dev/null); then echo 'UP|1'; printf '%s\\n' "$out"; fi`,
    parse(stdout) {
      const roles = new Map<string, string>();
      const databases = new Map<string, string>();
      let up = false;
      let guard: number | undefined;
      for (const line of stdout.split('\n')) {
        const [t, a, b = ''] = line.split('|');
        if (t === 'UP') up = true;
        else if (t === 'G') guard = Number(a);
        else if (t === 'R') roles.set(a, line.slice(3 + a.length));
        else if (t === 'D') databases.set(a, b);
      }
      if (o.guard && guard === undefined) guard = 255;
      return { up, guard, roles, databases };
    },
  };
  const sql = (f: DbFact | null): { sql: string[]; what: string[] } => {
    const out: string[] = [];
    const what: string[] = [];
    for (const owner of owners) {
      const pw = o.passwords[owner] ?? '';
      const has = f?.roles.has(owner);
      if (!has) {
        out.push(`select ${lit(`create role ${ident(owner)} login`)} where not exists (select 1 from pg_roles where rolname = ${lit(owner)})\n\\gexec`);
        what.push(`create role ${owner}`);
      }
      if (pw && (!has || !scramMatches(pw, f!.roles.get(owner) ?? ''))) {
        out.push(`alter role ${ident(owner)} login password ${lit(scramVerifier(pw))};`);
        what.push(has ? `set the password of ${owner} (differs)` : `set the password of ${owner}`);
      }
    }
    for (const d of o.databases) {
      const cur = f?.databases.get(d.name);
      if (cur === undefined) {
        out.push(`select ${lit(`create database ${ident(d.name)} owner ${ident(d.owner)}`)} where not exists (select 1 from pg_database where datname = ${lit(d.name)})\n\\gexec`);
        what.push(`create database ${d.name} owner ${d.owner}`);
      } else if (cur !== d.owner) {
        out.push(`alter database ${ident(d.name)} owner to ${ident(d.owner)};`);
        what.push(`owner of ${d.name} ${cur} -> ${d.owner}`);
      }
    }
    return { sql: out, what };
  };
  const script = (stmts: string[]) => {
    const run = `${psql(o)} <<'ORCH_SQL'\n${stmts.join('\n')}\nORCH_SQL`;
    if (!o.guard) return run;
    const wait = o.guard.wait ?? `(\n${o.guard.check}\n) && exit 0; exit 3`;
    return [
      `rc=0; ( ${wait.split('\n').join('\n  ')}\n) </dev/null >/dev/null 2>&1 || rc=$?`,
      `if [ "$rc" = 3 ]; then printf '\\036SKIP %s\\n' ${q(`not here: ${o.guard.description} is another host`)}; exit 0; fi`,
      `if [ "$rc" != 0 ]; then echo ${q(`orch: ${o.guard.description}: not decided (exit`)} "$rc)" >&2; exit 1; fi`,
      run,
    ].join('\n');
  };
  return {
    kind: 'postgresql',
    name: o.name,
    fact,
    secret: true,
    plan(f): Plan {
      if (o.guard && f.guard !== 0 && f.up) return { status: 'skip', reason: `not ${o.guard.description}` };
      if (!f.up) {
        // a first deploy: the server starts in this run; everything is created, guarded, at apply time
        const { sql: stmts, what } = sql(null);
        if (!stmts.length) return { status: 'ok', reason: 'nothing to manage' };
        const where = o.guard ? ` on ${o.guard.description}` : '';
        return { status: 'change', reason: `server not answering yet (starts in this run): ${what.join(', ')}${where}`, script: script(stmts) };
      }
      const { sql: stmts, what } = sql(f);
      if (!stmts.length) return { status: 'ok', reason: `${o.databases.length} databases with their owners${owners.some((w) => o.passwords[w]) ? ' and passwords' : ''}` };
      return { status: 'change', reason: what.join(', '), script: script(stmts) };
    },
  };
}

export const SKIP_MARKER = `${RS}SKIP `;
