/**
 * `sysctl`: kernel parameters, persisted in a sysctl.d file (header line(s), then `key = value` per key
 * in the given order; root:root 0644) and applied live with `sysctl -w`.
 *
 * Keys that cannot be set live are skipped, not failed. Inside a container only the keys the kernel
 * keeps per namespace (net., kernel.shm, kernel.msg, kernel.sem, fs.mqueue. ...) are set: global keys (vm., fs.)
 * belong to the container's host, and where /proc/sys happens to be writable (a container with
 * `systempaths=unconfined`) writing them would retune the host itself. Outside containers the fact
 * probes writability (`[ -w /proc/sys/<key> ]`). Either way such keys are known at plan time; when nothing else changes the plan is `skip` with no script, so a warm rerun
 * reports skip. A `sysctl -w` that still fails for permission reasons prints a `\x1eSKIP ` line, which
 * the runner turns into skipped when the op changed nothing else.
 */
import type { Fact, Operation, Plan } from './types.js';
import { q } from './quote.js';
import { commentLines, fileFactCommand, lines, parseFileFact, planFile, type FileFact } from './file.js';
import { assertAbsolute } from './stat.js';

export interface SysctlOptions {
  /** e.g. `/etc/sysctl.d/99-orch.conf` */
  file: string;
  values: Record<string, string | number>;
  /** comment line(s) at the top; `# ` is prepended to lines that do not start with `#` */
  header?: string;
  /** apply values live (default true); a function decides per key */
  applyLive?: boolean | ((key: string) => boolean);
}

export interface LiveValue {
  /** the key exists under /proc/sys */
  exists: boolean;
  /** /proc/sys/<key> is writable (false in containers for global keys) */
  writable: boolean;
  /** a global (not namespaced) key, seen from inside a container: never set from there */
  hostGlobal?: boolean;
  /** current value, whitespace normalised to single spaces */
  value: string;
}

export interface SysctlFact {
  file: FileFact;
  live: Record<string, LiveValue>;
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;

/** `net.ipv4.conf.eth0/1.rp_filter` -> `/proc/sys/net/ipv4/conf/eth0.1/rp_filter` (sysctl swaps `.` and `/`). */
export function procPath(key: string): string {
  return `/proc/sys/${key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}

export function normalise(value: string | number): string {
  return String(value).trim().split(/\s+/).join(' ');
}

/** The persisted file: header, then `key = value` lines in the given order. */
export function sysctlContent(values: Record<string, string | number>, header?: string): string {
  return lines(commentLines(header), Object.entries(values).map(([k, v]) => `${k} = ${String(v).trim()}`));
}

/** Keys the kernel keeps per namespace: a container has its own copy and may set them. */
export const NAMESPACED_KEY = /^(net\.|kernel\.(shm|msg|sem$|hostname$|domainname$)|fs\.mqueue\.|user\.)/;

const CONTAINER_PROBE =
  "if [ -f /.dockerenv ] || [ -f /run/.containerenv ] || grep -qa container= /proc/1/environ 2>/dev/null; then echo 'C|1'; else echo 'C|0'; fi";

function liveCommand(keys: string[]): string {
  if (keys.length === 0) return '';
  return [CONTAINER_PROBE, ...keys
    .map((k, i) => {
      const p = q(procPath(k));
      return (
        `if [ -e ${p} ]; then if [ -w ${p} ]; then w=1; else w=0; fi; ` +
        `printf 'K${i}|%s|%s\\n' "$w" "$(sysctl -n ${q(k)} 2>/dev/null | tr '\\t\\n' '  ')"; else echo 'K${i}|-|'; fi`
      );
    })]
    .join('\n');
}

/** Permission-type failures of `sysctl -w` (read-only /proc/sys, EPERM/EACCES): skip, not fail. */
function setLive(key: string, value: string): string {
  const skip = `${key}: cannot be set live here`;
  return [
    `if out=$(sysctl -w ${q(`${key}=${value}`)} 2>&1); then changed=1; else`,
    `  case $out in *'ead-only'*|*'ermission denied'*|*'peration not permitted'*) skipped="$skipped, "${q(skip)};;`,
    `  *) printf '%s\\n' "$out" >&2; exit 1;; esac`,
    'fi',
  ].join('\n');
}

export function sysctl(o: SysctlOptions): Operation<SysctlFact> {
  assertAbsolute(o.file, 'sysctl file');
  const keys = Object.keys(o.values);
  for (const k of keys) if (!KEY.test(k)) throw new Error(`sysctl: invalid key ${JSON.stringify(k)}`);
  for (const [k, v] of Object.entries(o.values)) {
    if (/[\n\r]/.test(String(v)) || String(v).trim() === '') throw new Error(`sysctl: invalid value for ${k}: ${JSON.stringify(v)}`);
  }
  const live = (k: string) => (typeof o.applyLive === 'function' ? o.applyLive(k) : o.applyLive !== false);
  const liveKeys = keys.filter(live);
  const content = sysctlContent(o.values, o.header);
  const fact: Fact<SysctlFact> = {
    key: `sysctl:${o.file}:${liveKeys.join(',')}`,
    command: [fileFactCommand(o.file), liveCommand(liveKeys)].join('\n'),
    parse(stdout) {
      const liveValues: Record<string, LiveValue> = {};
      const all = stdout.split('\n');
      const container = all.includes('C|1');
      liveKeys.forEach((k, i) => {
        const line = all.find((l) => l.startsWith(`K${i}|`));
        const [, w, ...rest] = (line ?? `K${i}|-|`).split('|');
        const hostGlobal = container && !NAMESPACED_KEY.test(k);
        liveValues[k] = { exists: w !== '-', writable: w === '1' && !hostGlobal, value: normalise(rest.join('|')), ...(hostGlobal ? { hostGlobal } : {}) };
      });
      return { file: parseFileFact(stdout), live: liveValues };
    },
  };
  return {
    kind: 'sysctl',
    name: o.file,
    fact,
    plan(f): Plan {
      const filePlan = planFile({ path: o.file, content, owner: 'root', group: 'root', mode: 0o644 }, f.file);
      const set: string[] = [];
      const unsettable: string[] = [];
      const hostGlobal: string[] = [];
      const reasons: string[] = [];
      for (const k of liveKeys) {
        const want = normalise(o.values[k]);
        const cur = f.live[k];
        if (cur.exists && cur.value === want) continue;
        if (!cur.exists) unsettable.push(`${k} (no such key)`);
        else if (cur.hostGlobal) hostGlobal.push(`${k} ${cur.value} -> ${want}`);
        else if (!cur.writable) unsettable.push(`${k} ${cur.value} -> ${want} (${procPath(k)} read-only)`);
        else {
          set.push(k);
          reasons.push(`${k} ${cur.value} -> ${want}`);
        }
      }
      const cannot = [
        unsettable.length ? `cannot set live: ${unsettable.join(', ')}` : '',
        hostGlobal.length ? `not set live inside a container (global kernel parameters belong to its host): ${hostGlobal.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
      if (filePlan.status === 'ok' && !set.length) {
        if (cannot) return { status: 'skip', reason: `${o.file} matches; ${cannot}` };
        return { status: 'ok', reason: liveKeys.length ? `${o.file} matches, live values match` : `${o.file} matches (values not applied live)` };
      }
      const script = ['changed=0', "skipped=''"];
      if (filePlan.status === 'change') {
        reasons.unshift(`${o.file}: ${filePlan.reason}`);
        script.push(filePlan.script, 'changed=1');
      }
      for (const k of set) script.push(setLive(k, String(o.values[k]).trim()));
      script.push(`if [ "$changed" = 0 ] && [ -n "$skipped" ]; then printf '\\036SKIP %s\\n' "\${skipped#, }"; fi`);
      if (cannot) reasons.push(cannot);
      const plan: Plan = { status: 'change', reason: reasons.join('; '), script: script.join('\n') };
      if (filePlan.status === 'change' && filePlan.diff) plan.diff = filePlan.diff;
      return plan;
    },
  };
}
