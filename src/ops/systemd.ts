/**
 * systemd: `unit` (a unit file; a content change makes `daemon-reload` pending) and `service`
 * (enabled/started state from ONE `systemctl show -p LoadState -p ActiveState -p UnitFileState` per
 * service: `UnitFileState` is what `is-enabled` prints, `LoadState` tells a unit that does not exist yet). Service ops flush `daemon-reload` first, so a unit written earlier in the
 * phase is loaded before it is enabled or started.
 */
import { posix } from 'node:path';
import type { Fact, Operation, PendingAction, Plan } from './types.js';
import { argv, q } from './quote.js';
import { file, type FileFact } from './file.js';
import { assertAbsolute, failScript, tagged } from './stat.js';
import { sha256 } from './write.js';
import { withResourceControls, type ResourceControls } from './resources.js';

export const DAEMON_RELOAD: PendingAction = {
  key: 'daemon-reload',
  script: 'systemctl daemon-reload',
  description: 'reload systemd unit files',
};

/** after `systemctl enable --no-reload`: one reload for all services enabled in a phase, at its end */
export const ENABLE_RELOAD: PendingAction = {
  key: 'enable-reload',
  script: 'systemctl daemon-reload',
  description: 'reload systemd after enabling services',
};

const UNIT = /^[A-Za-z0-9:_.@\\-]+\.(service|socket|timer|target|path|mount|automount|slice|scope|swap|device)$/;

export interface UnitOptions {
  /** e.g. `kafka.service` */
  name: string;
  content: string;
  /** default `/etc/systemd/system` */
  dir?: string;
  /** handlers to restart when the unit file changes (typically the service itself) */
  notify?: string[];
  /** `MemoryMax=` / `CPUQuota=` set in the [Service] section (see ./resources.ts: `serviceLimits(host.vars, name)`) */
  resources?: ResourceControls;
}

/**
 * One value of a systemd EnvironmentFile line (`NAME=<value>`): double-quoted with `\`, `"`, `$` and `` ` `` escaped
 * (the characters both systemd's and sh's double quotes unescape alike), so systemd reads it back byte for byte and so
 * does sh sourcing the file (`set -a; . FILE`: a role's one-off commands with the service's environment). A value
 * with a newline cannot be written: `onNewline` is the error's message.
 */
export function environmentFileValue(value: string, onNewline: string): string {
  if (/[\n\r]/.test(value)) throw new Error(onNewline);
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export function unit(o: UnitOptions): Operation<FileFact> {
  if (!UNIT.test(o.name)) throw new Error(`unit: invalid unit name ${JSON.stringify(o.name)} (e.g. kafka.service)`);
  const dir = o.dir ?? '/etc/systemd/system';
  assertAbsolute(dir, 'unit dir');
  const content = withResourceControls(o.content, o.resources);
  const want = sha256(content);
  const op = file({ path: posix.join(dir, o.name), content, owner: 'root', group: 'root', mode: 0o644, notify: o.notify });
  return {
    ...op,
    kind: 'unit',
    plan(f) {
      const p = op.plan(f);
      if (p.status !== 'change') return p;
      // an owner/mode fix alone does not need a reload; new or changed content does
      return f.sha256 !== want ? { ...p, pending: [DAEMON_RELOAD] } : p;
    },
  };
}

export interface ServiceOptions {
  /** unit name; `.service` is implied when there is no suffix */
  name: string;
  enabled?: boolean;
  state?: 'started' | 'stopped' | 'restarted';
}

export interface ServiceFact {
  /** systemd is PID 1 (`/run/systemd/system` exists) */
  systemd: boolean;
  /** `UnitFileState` (as `systemctl is-enabled` prints it): enabled, disabled, static, masked, ... ('' when unknown) */
  enabled: string;
  /** `ActiveState` (as `systemctl is-active` prints it): active, inactive, failed, activating, ... */
  active: string;
  /** `LoadState`: loaded, not-found, masked, ... */
  load: string;
}

/** is-enabled states with exit code 0, as Ansible's systemd module counts them as enabled. */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'transient']);
/** cannot be enabled or disabled: enabling/disabling is a no-op */
const NOT_TOGGLEABLE = new Set(['static', 'indirect', 'generated', 'transient']);
const RUNNING = new Set(['active', 'activating', 'reloading']);

export function serviceFact(name: string): Fact<ServiceFact> {
  const n = q(name);
  return {
    key: `service:${name}`,
    command: `if [ -d /run/systemd/system ]; then echo 'SD|1'; systemctl show -p LoadState -p ActiveState -p UnitFileState ${n} 2>/dev/null; fi`,
    parse(stdout) {
      const prop = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(stdout)?.[1].trim() ?? '';
      return {
        systemd: tagged(stdout, 'SD').length > 0,
        enabled: prop('UnitFileState'),
        active: prop('ActiveState'),
        load: prop('LoadState'),
      };
    },
  };
}

export function service(o: ServiceOptions): Operation<ServiceFact> {
  const name = /\.[a-z]+$/.test(o.name) ? o.name : `${o.name}.service`;
  if (!UNIT.test(name)) throw new Error(`service: invalid unit name ${JSON.stringify(o.name)}`);
  return {
    kind: 'service',
    name,
    fact: serviceFact(name),
    flushes: [DAEMON_RELOAD.key],
    plan(f): Plan {
      if (!f.systemd) {
        return {
          status: 'change',
          reason: 'systemd is not running on this host',
          script: failScript(`cannot manage ${name}: systemd is not running on this host`),
        };
      }
      const notFound = f.load === 'not-found' || f.enabled === 'not-found' || f.enabled === '';
      const enabledState = notFound ? 'not-found' : f.enabled;
      const activeState = f.active || 'inactive';
      const script: string[] = [];
      const reasons: string[] = [];
      const oks: string[] = [];
      if (o.enabled !== undefined) {
        const isEnabled = ENABLED.has(enabledState);
        if (enabledState === 'masked' || f.load === 'masked') {
          return {
            status: 'change',
            reason: `${name} is masked`,
            script: failScript(`${name} is masked: unmask it first (systemctl unmask ${name})`),
          };
        }
        if (o.enabled && !isEnabled) {
          // enabling only links the unit into its targets: no daemon reload per service (one at the end of the phase)
          script.push(argv('systemctl', 'enable', '--no-reload', name));
          reasons.push(`${enabledState} -> enabled`);
        } else if (!o.enabled && isEnabled && !NOT_TOGGLEABLE.has(enabledState)) {
          script.push(argv('systemctl', 'disable', name));
          reasons.push(`${enabledState} -> disabled`);
        } else oks.push(enabledState);
      }
      let started: string[] | undefined;
      if (o.state === 'restarted') {
        script.push(argv('systemctl', 'restart', name));
        reasons.push(`restart (was ${activeState})`);
        started = [name];
      } else if (o.state === 'started') {
        if (RUNNING.has(activeState)) oks.push(activeState);
        else {
          // a unit not installed when the facts were read may come with a package of this phase whose postinst
          // already started it, with the packaged config, before the role's files were written: restart, which
          // starts it when stopped, so that it runs the role's config either way
          script.push(argv('systemctl', notFound ? 'restart' : 'start', name));
          reasons.push(`${activeState} -> started`);
          started = [name];
        }
      } else if (o.state === 'stopped') {
        if (RUNNING.has(activeState)) {
          script.push(argv('systemctl', 'stop', name));
          reasons.push(`${activeState} -> stopped`);
        } else oks.push(activeState);
      }
      if (!script.length) {
        return { status: 'ok', reason: oks.length ? oks.join(', ') : `${enabledState}, ${activeState} (nothing requested)` };
      }
      const plan: Plan = { status: 'change', reason: reasons.join(', '), script: script.join('\n') };
      if (started) plan.started = started;
      if (script.some((l) => l.includes(' enable --no-reload '))) plan.pending = [ENABLE_RELOAD];
      return plan;
    },
  };
}
