/**
 * `instances`: several instances of one service on a host, as systemd template units. The template
 * `<service>@.service` (with `%i` for the instance id) is written once; each instance gets a drop-in
 * `<service>@<id>.service.d/orch-instance.conf` holding its own settings (Environment= lines: ports, directories,
 * sizes) and is enabled and started as `<service>@<id>.service`. An instance the list no longer has is stopped,
 * disabled and its drop-in deleted (an empty list removes the template too): a rerun after shrinking leaves no unit
 * behind. Data directories are never deleted: that is the operator's call.
 *
 * A changed template restarts every instance; a changed drop-in only its own instance.
 */
import { posix } from 'node:path';
import type { Fact, Operation, Plan } from './types.js';
import { q } from './quote.js';
import { dir } from './dir.js';
import { file } from './file.js';
import { service, unit, DAEMON_RELOAD } from './systemd.js';

export interface InstanceSpec {
  /** instance id: `1`, `2`, `a` ... (letters, digits, `_`, `-`) */
  id: string;
  /** the instance's own settings, as `Environment=` lines of its drop-in (referenced as `${NAME}` in the template) */
  environment?: Record<string, string | number>;
  /** more lines for the drop-in's [Service] section (e.g. `MemoryMax=2816M`) */
  serviceLines?: string[];
}

export interface InstancesOptions {
  /** the template's base name: `spark-worker` gives `spark-worker@.service` and `spark-worker@<id>.service` */
  service: string;
  /** the template unit's content (`%i` is the instance id) */
  unit: string;
  instances: InstanceSpec[];
  /** default true */
  enabled?: boolean;
  /** default `started` */
  state?: 'started' | 'stopped';
  /** default `/etc/systemd/system` */
  dir?: string;
  /** handlers to notify (with each instance) when the template changes, e.g. a rolled restart */
  notify?: string[];
}

const ID = /^[A-Za-z0-9_-]+$/;
const BASE = /^[A-Za-z0-9:_.\\-]+$/;

export const instanceUnit = (service: string, id: string) => `${service}@${id}.service`;

/** systemd Environment= quoting: the whole assignment in double quotes, `"` and `\` escaped, `%` doubled. */
export function environmentLine(name: string, value: string | number): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`instances: invalid environment variable name ${JSON.stringify(name)}`);
  const v = String(value);
  if (/[\n\r]/.test(v)) throw new Error(`instances: the value of ${name} has a newline`);
  return `Environment="${`${name}=${v}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** The drop-in of one instance. */
export function instanceDropIn(service: string, inst: InstanceSpec): string {
  const env = Object.entries(inst.environment ?? {}).map(([k, v]) => environmentLine(k, v));
  return [`# Managed by orch: instance ${inst.id} of ${service}@.service`, '[Service]', ...env, ...(inst.serviceLines ?? [])].join('\n') + '\n';
}

export function instances(o: InstancesOptions): Operation<any>[] {
  if (!BASE.test(o.service) || o.service.includes('@')) throw new Error(`instances: invalid service name ${JSON.stringify(o.service)} (e.g. spark-worker)`);
  const seen = new Set<string>();
  for (const i of o.instances) {
    if (!ID.test(i.id)) throw new Error(`instances: invalid instance id ${JSON.stringify(i.id)} of ${o.service} (letters, digits, _ and -)`);
    if (seen.has(i.id)) throw new Error(`instances: instance id ${i.id} of ${o.service} is given twice`);
    seen.add(i.id);
  }
  const unitDir = o.dir ?? '/etc/systemd/system';
  const names = o.instances.map((i) => instanceUnit(o.service, i.id));
  const out: Operation<any>[] = [];
  if (o.instances.length) {
    out.push(unit({ name: `${o.service}@.service`, content: o.unit, dir: unitDir, notify: [...names, ...(o.notify ?? [])] }));
    for (const inst of o.instances) {
      const name = instanceUnit(o.service, inst.id);
      const dropDir = posix.join(unitDir, `${name}.d`);
      out.push(dir({ path: dropDir, owner: 'root', group: 'root', mode: 0o755 }));
      const f = file({ path: posix.join(dropDir, 'orch-instance.conf'), content: instanceDropIn(o.service, inst), owner: 'root', group: 'root', mode: 0o644, notify: [name] });
      out.push({
        ...f,
        kind: 'instance',
        plan(fact) {
          const p = f.plan(fact);
          return p.status === 'change' ? { ...p, pending: [DAEMON_RELOAD] } : p; // a drop-in is unit configuration
        },
      });
    }
    for (const name of names) out.push(service({ name, enabled: o.enabled ?? true, state: o.state ?? 'started' }));
  }
  out.push(pruneInstances(o.service, o.instances.map((i) => i.id), unitDir));
  return out;
}

export interface InstancesFact {
  /** ids of instances that have a drop-in, an enablement link or a loaded unit on the host */
  present: string[];
  template: boolean;
}

export function instancesFact(service: string, unitDir: string): Fact<InstancesFact> {
  const d = q(unitDir);
  const pat = q(`${service}@*.service`);
  return {
    key: `instances:${unitDir}:${service}`,
    command: [
      `for p in ${d}/${q(service)}@*.service.d ${d}/*.wants/${q(service)}@*.service; do [ -e "$p" ] || [ -L "$p" ] && echo "P|$p"; done`,
      `[ -f ${q(posix.join(unitDir, `${service}@.service`))} ] && echo 'T|1'`,
      `command -v systemctl >/dev/null && systemctl list-units --all --plain --no-legend --full ${pat} 2>/dev/null | awk '{print "U|" $1}'`,
      'true',
    ].join('\n'),
    parse(stdout) {
      const re = new RegExp(`(?:^|/)${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}@([A-Za-z0-9_-]+)\\.service(?:\\.d)?$`);
      const ids = new Set<string>();
      let template = false;
      for (const line of stdout.split('\n')) {
        if (line === 'T|1') template = true;
        const m = /^[PU]\|(.*)$/.exec(line);
        const id = m ? re.exec(m[1])?.[1] : undefined;
        if (id) ids.add(id);
      }
      return { present: [...ids].sort(), template };
    },
  };
}

/** Stop, disable and delete the instances of `service` that `keep` does not list (and the template when it is empty). */
export function pruneInstances(service: string, keep: string[], unitDir = '/etc/systemd/system'): Operation<InstancesFact> {
  return {
    kind: 'instances',
    name: `${service}@*`,
    fact: instancesFact(service, unitDir),
    flushes: [DAEMON_RELOAD.key],
    plan(f): Plan {
      const stale = f.present.filter((id) => !keep.includes(id));
      const dropTemplate = keep.length === 0 && f.template;
      if (!stale.length && !dropTemplate) {
        return { status: 'ok', reason: keep.length ? `instances ${keep.join(', ')}; no other` : 'no instance' };
      }
      const script: string[] = [];
      for (const id of stale) {
        const name = q(instanceUnit(service, id));
        script.push(`systemctl disable --now ${name} >/dev/null 2>&1 || systemctl stop ${name} >/dev/null 2>&1 || true`);
        script.push(`rm -rf ${q(posix.join(unitDir, `${instanceUnit(service, id)}.d`))}`);
        script.push(`rm -f ${q(unitDir)}/*.wants/${name}`);
      }
      if (dropTemplate) script.push(`rm -f ${q(posix.join(unitDir, `${service}@.service`))}`);
      script.push('systemctl daemon-reload');
      for (const id of stale) script.push(`systemctl reset-failed ${q(instanceUnit(service, id))} >/dev/null 2>&1 || true`);
      const what = [stale.length ? `remove instance${stale.length > 1 ? 's' : ''} ${stale.join(', ')} (stop, disable, delete its drop-in)` : '', dropTemplate ? `remove ${service}@.service (no instance left)` : ''].filter(Boolean);
      return { status: 'change', reason: what.join('; '), script: script.join('\n') };
    },
  };
}
