/**
 * patroni renderers: patroni.yml (local configuration + the bootstrap DCS section), the systemd units, the dynamic
 * configuration diff (GET /config against the desired one, PATCHed with only the difference), the restart-needed
 * probe (pg_settings of the parameters with context postmaster) and the helper scripts.
 */
import { stringify } from 'yaml';
import type { Fact, Operation, Plan } from '../../src/ops/types.js';
import { q } from '../../src/ops/quote.js';
import { normalizeSetting, psql, type HbaRule, type PgValue, hbaAddress } from '../postgresql/render.js';

export const API = (port: number) => `http://127.0.0.1:${port}`;

export interface DcsConfig {
  ttl: number;
  loop_wait: number;
  retry_timeout: number;
  maximum_lag_on_failover: number;
  synchronous_mode: boolean;
  synchronous_node_count: number;
  postgresql: { use_pg_rewind: boolean; use_slots: boolean; parameters: Record<string, PgValue> };
}

export interface PatroniConfigInput {
  scope: string;
  namespace: string;
  name: string;
  address: string;
  restApiPort: number;
  pgPort: number;
  etcdHosts: string[];
  dcs: DcsConfig;
  dataDir: string;
  binDir: string;
  pgpass: string;
  socketDir: string;
  superuser: { username: string; password: string };
  replication: { username: string; password: string };
  /** host-local parameters (memory sized from this host): take precedence over the dynamic ones */
  localParameters: Record<string, PgValue>;
  pgHba: HbaRule[];
}

/** pg_hba rules as Patroni's `postgresql.pg_hba` list wants them (one line each). */
export function hbaLines(rules: HbaRule[]): string[] {
  return rules.map((r) => (r.type === 'local' ? `local ${r.database} ${r.user} ${r.method}` : `${r.type} ${r.database} ${r.user} ${hbaAddress(r.address ?? '')} ${r.method}`));
}

/** /etc/patroni/config.yml */
export function renderPatroniYml(c: PatroniConfigInput): string {
  const doc = {
    scope: c.scope,
    namespace: c.namespace,
    name: c.name,
    restapi: { listen: `0.0.0.0:${c.restApiPort}`, connect_address: `${c.address}:${c.restApiPort}` },
    etcd3: { hosts: c.etcdHosts, protocol: 'http' },
    bootstrap: {
      // used once, when the cluster is first initialized; later changes go through PATCH /config
      dcs: c.dcs,
      initdb: [{ encoding: 'UTF8' }, { locale: 'C.UTF-8' }, 'data-checksums'],
    },
    postgresql: {
      listen: `0.0.0.0:${c.pgPort}`,
      connect_address: `${c.address}:${c.pgPort}`,
      data_dir: c.dataDir,
      bin_dir: c.binDir,
      pgpass: c.pgpass,
      use_unix_socket: true,
      authentication: {
        superuser: c.superuser,
        replication: c.replication,
      },
      parameters: { unix_socket_directories: c.socketDir, ...c.localParameters },
      pg_hba: hbaLines(c.pgHba),
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return `# Managed by orch (role patroni): member ${c.name} of cluster ${c.scope}\n${stringify(doc, { lineWidth: 0 })}`;
}

export function patroniUnit(bin: string, configFile: string, scope: string): string {
  return `# Managed by orch (role patroni)
[Unit]
Description=Patroni: PostgreSQL high availability (cluster ${scope})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=postgres
Group=postgres
ExecStart=${bin} ${configFile}
ExecReload=/bin/kill -s HUP $MAINPID
# Patroni stops PostgreSQL itself: systemd signals the Patroni process only
KillMode=process
TimeoutSec=60
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
}

/** The handler units: restarting them reloads Patroni, or restarts PostgreSQL through Patroni (a rolled handler). */
export function reloadUnit(): string {
  return `# Managed by orch (role patroni): the handler "reload patroni.yml" (restarting this unit reloads Patroni, never restarts it)
[Unit]
Description=orch: reload Patroni's configuration

[Service]
Type=oneshot
ExecStart=/bin/systemctl try-reload-or-restart patroni.service
`;
}

export function restartUnit(script: string): string {
  return `# Managed by orch (role patroni): the rolled handler "restart PostgreSQL through Patroni" (one member at a time, leader last)
[Unit]
Description=orch: restart this member's PostgreSQL through Patroni (pending restart)

[Service]
Type=oneshot
ExecStart=${script}
TimeoutStartSec=600
`;
}

const PY_JSON = (expr: string) => `python3 -c ${q(`import json,sys\nd=json.load(sys.stdin)\nsys.exit(0 if (${expr}) else 1)`)}`;

/**
 * The restart helper: waits (after a reload) until Patroni flags this member's pending restart, then POST /restart
 * (Patroni restarts PostgreSQL and answers when it is done), then waits until the member runs again.
 */
export function restartScript(restApiPort: number, waitS: number): string {
  const api = API(restApiPort);
  return `#!/bin/sh
# Managed by orch (role patroni): restart this member's PostgreSQL through Patroni once it flags a pending restart
set -eu
api=${api}
end=$(( $(date +%s) + ${waitS} ))
until curl -s "$api/patroni" | ${PY_JSON('d.get("pending_restart")')}; do
  if [ "$(date +%s)" -ge "$end" ]; then echo "orch: Patroni flagged no pending restart within ${waitS} s" >&2; exit 1; fi
  sleep 1
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{"restart_pending": true}' "$api/restart" || true)
if [ "$code" != 200 ]; then echo "orch: POST $api/restart answered $code" >&2; exit 1; fi
end=$(( $(date +%s) + ${waitS} ))
until curl -s "$api/patroni" | ${PY_JSON('d.get("state") == "running" and not d.get("pending_restart")')}; do
  if [ "$(date +%s)" -ge "$end" ]; then echo "orch: PostgreSQL not running again within ${waitS} s of its restart" >&2; exit 1; fi
  sleep 1
done
`;
}

/** Health after a rolled restart: running, nothing pending, and a replica streams from the leader again. */
export function healthCommand(restApiPort: number): string {
  const api = API(restApiPort);
  return (
    `curl -s ${api}/patroni | ${PY_JSON('d.get("state") == "running" and not d.get("pending_restart") and (d.get("role") in ("master", "primary") or d.get("replication_state", "streaming") == "streaming")')}` +
    ` && { [ "$(curl -s -o /dev/null -w '%{http_code}' ${api}/primary)" = 200 ] || [ "$(curl -s -o /dev/null -w '%{http_code}' ${api}/replica)" = 200 ]; }`
  );
}

/** Exits 0 on the leader (Patroni's /primary answers 200 only there). */
export function leaderCommand(restApiPort: number): string {
  return `[ "$(curl -s -o /dev/null -w '%{http_code}' ${API(restApiPort)}/primary)" = 200 ]`;
}

/** Apply-time wait for the databases op: 0 on the leader, 3 on a running replica, keeps waiting otherwise. */
export function leaderWait(restApiPort: number, timeoutS: number): string {
  const api = API(restApiPort);
  return [
    `end=$(( $(date +%s) + ${timeoutS} ))`,
    'while :; do',
    `  [ "$(curl -s -o /dev/null -w '%{http_code}' ${api}/primary)" = 200 ] && exit 0`,
    `  [ "$(curl -s -o /dev/null -w '%{http_code}' ${api}/replica)" = 200 ] && exit 3`,
    '  [ "$(date +%s)" -ge "$end" ] && exit 1',
    '  sleep 1',
    'done',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// dynamic configuration

type Flat = Map<string, string>;

function flatten(o: unknown, prefix: string, out: Flat): Flat {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, typeof o === 'boolean' ? String(o) : String(o ?? ''));
  return out;
}

/** Normalized for comparison: booleans and PostgreSQL's on/off spellings alike, numbers as strings. */
function norm(path: string, v: string): string {
  const l = v.trim().toLowerCase();
  if (['true', 'on', 'yes'].includes(l) && !/^\d+$/.test(l)) return 'true';
  if (['false', 'off', 'no'].includes(l)) return 'false';
  return path.includes('.parameters.') ? l : v;
}

export interface DcsDiff {
  /** `key: old -> new` per differing key (dotted path) */
  changes: string[];
  /** the PATCH body: only the differing keys, nested */
  patch: Record<string, unknown>;
}

/** What in the live dynamic configuration differs from the desired one (keys orch does not manage are left alone). */
export function dcsDiff(live: unknown, desired: DcsConfig): DcsDiff {
  const want = flatten(desired, '', new Map());
  const have = flatten(live ?? {}, '', new Map());
  const changes: string[] = [];
  const patch: Record<string, unknown> = {};
  for (const [path, value] of want) {
    const cur = have.get(path);
    if (cur !== undefined && norm(path, cur) === norm(path, value)) continue;
    changes.push(`${path.replace(/^postgresql\.parameters\./, '')}: ${cur ?? '(unset)'} -> ${value}`);
    let node = patch;
    const keys = path.split('.');
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = lookup(desired, keys);
  }
  return { changes, patch };
}

function lookup(o: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], o);
}

export interface DcsFact {
  /** HTTP status of GET /config ('000': Patroni not answering) */
  code: string;
  config?: unknown;
}

/**
 * The cluster's dynamic configuration as Patroni holds it in etcd (GET /config), made to match the desired one with
 * PATCH /config carrying only the difference: Patroni applies it to every member (reload; parameters that need a
 * restart flag `pending_restart`, which the restart op then rolls). Every member PATCHes the same values (the first
 * one to apply changes the cluster, the others confirm it), so it does not matter who applies first.
 */
export function dynamicConfigOp(restApiPort: number, desired: DcsConfig): Operation<DcsFact> {
  const api = API(restApiPort);
  return {
    kind: 'patroni',
    name: 'dynamic configuration (DCS)',
    fact: {
      key: `patroni-config:${restApiPort}`,
      command: `out=$(curl -s -w '\\n%{http_code}' ${api}/config 2>/dev/null) || out='000'\nprintf 'C|%s\\n' "$(printf '%s\\n' "$out" | tail -n 1)"\nprintf '%s\\n' "$out" | sed '$d' | sed 's/^/J|/'`,
      parse(stdout) {
        const code = /^C\|(\d+)$/m.exec(stdout)?.[1] ?? '000';
        const json = stdout
          .split('\n')
          .filter((l) => l.startsWith('J|'))
          .map((l) => l.slice(2))
          .join('\n');
        let config: unknown;
        try {
          config = code === '200' ? JSON.parse(json) : undefined;
        } catch {
          config = undefined;
        }
        return { code, config };
      },
    } satisfies Fact<DcsFact>,
    plan(f): Plan {
      if (f.code !== '200' || !f.config) {
        return { status: 'ok', reason: `Patroni not answering yet (GET /config: ${f.code}): a new cluster starts from patroni.yml's bootstrap.dcs, which is the desired one` };
      }
      const d = dcsDiff(f.config, desired);
      if (!d.changes.length) return { status: 'ok', reason: 'as desired (GET /config)' };
      const body = JSON.stringify(d.patch);
      return {
        status: 'change',
        reason: `PATCH /config: ${d.changes.join(', ')}`,
        script: `code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' --data-binary @- ${api}/config <<'ORCH_JSON'\n${body}\nORCH_JSON\n)\nif [ "$code" != 200 ]; then echo "orch: PATCH ${api}/config answered $code" >&2; exit 1; fi`,
      };
    },
  };
}

export interface SettingsFact {
  up: boolean;
  /** name -> { setting, unit, context, pending } */
  settings: Map<string, { setting: string; unit: string; context: string; pending: boolean }>;
}

/**
 * This member runs with the desired values of the parameters that need a restart (pg_settings context postmaster),
 * and PostgreSQL has no restart pending: else a change that notifies the rolled handler `orch-patroni-restart`
 * (PostgreSQL restarted through Patroni, one member at a time, the leader last).
 */
export function restartNeededOp(o: { socketDir: string; port: number; parameters: Record<string, PgValue>; handler: string }): Operation<SettingsFact> {
  const names = Object.keys(o.parameters).sort();
  const sql = `select 'S|' || name || '|' || setting || '|' || coalesce(unit, '') || '|' || context || '|' || pending_restart from pg_settings where name in (${names.map((n) => `'${n}'`).join(', ')}) or pending_restart`;
  const cmd = `${psql(o)} -At -c ${q(sql)}`;
  return {
    kind: 'patroni',
    name: 'PostgreSQL runs with the parameters that need a restart',
    notify: [o.handler],
    fact: {
      key: `patroni-settings:${o.port}:${names.join(',')}`,
      command: `if out=$(${cmd} 2>/dev/null); then echo 'UP|1'; printf '%s\\n' "$out"; fi`,
      parse(stdout) {
        const settings: SettingsFact['settings'] = new Map();
        let up = false;
        for (const line of stdout.split('\n')) {
          if (line === 'UP|1') up = true;
          // text || boolean prints true/false (psql's own display would be t/f)
          const m = /^S\|([^|]+)\|(.*)\|([^|]*)\|([^|]+)\|(t|f|true|false)$/.exec(line);
          if (m) settings.set(m[1], { setting: m[2], unit: m[3], context: m[4], pending: m[5].startsWith('t') });
        }
        return { up, settings };
      },
    },
    plan(f): Plan {
      if (!f.up) return { status: 'ok', reason: 'PostgreSQL not running yet: Patroni starts it with these parameters' };
      const diffs: string[] = [];
      for (const n of names) {
        const s = f.settings.get(n);
        if (!s || s.context !== 'postmaster') continue;
        const want = normalizeSetting(o.parameters[n], s.unit);
        if (want !== s.setting.toLowerCase()) diffs.push(`${n} ${s.setting}${s.unit ? ` (x ${s.unit})` : ''} -> ${o.parameters[n]}`);
      }
      const pending = [...f.settings].filter(([, s]) => s.pending).map(([n]) => n);
      if (!diffs.length && !pending.length) return { status: 'ok', reason: `running with ${names.filter((n) => f.settings.get(n)?.context === 'postmaster').join(', ') || 'them'}` };
      const why = [...(diffs.length ? [`${diffs.join(', ')} (context postmaster)`] : []), ...(pending.length ? [`restart pending for ${pending.join(', ')}`] : [])];
      return { status: 'change', reason: `${why.join('; ')}: PostgreSQL restarted through Patroni, member by member, leader last`, script: ':' };
    },
  };
}
