/**
 * alertmanager: alertmanager.yml (routes and receivers from the inventory) and the flags file (listen address,
 * cluster peers: every other host of the group, clustering off when it is alone). JSON, which is YAML.
 */
import type { PeerHost } from '../../src/role/define.js';
import { environmentFileValue, lines } from '../../src/ops/index.js';

export const ALERTMANAGER_SERVICE = 'prometheus-alertmanager';
export const ALERTMANAGER_CONFIG = '/etc/prometheus/alertmanager.yml';
export const ALERTMANAGER_DEFAULTS = '/etc/default/prometheus-alertmanager';
export const ALERTMANAGER_DATA = '/var/lib/prometheus/alertmanager';
export const AM_LOADED_MARKER = '/var/lib/prometheus/orch-alertmanager-loaded.sha256';

export interface Receiver {
  name: string;
  webhook_urls?: string[];
}
export interface Route {
  receiver: string;
  matchers: string[];
  continue?: boolean;
}

export interface AlertmanagerSettings {
  receivers: Receiver[];
  routes: Route[];
  defaultReceiver: string;
  groupBy: string[];
  groupWait: string;
  groupInterval: string;
  repeatInterval: string;
}

export function renderAlertmanagerConfig(s: AlertmanagerSettings): string {
  const cfg = {
    route: {
      receiver: s.defaultReceiver,
      group_by: s.groupBy,
      group_wait: s.groupWait,
      group_interval: s.groupInterval,
      repeat_interval: s.repeatInterval,
      ...(s.routes.length ? { routes: s.routes.map((r) => ({ receiver: r.receiver, matchers: r.matchers, ...(r.continue ? { continue: true } : {}) })) } : {}),
    },
    receivers: s.receivers.map((r) => ({
      name: r.name,
      ...(r.webhook_urls?.length ? { webhook_configs: r.webhook_urls.map((url) => ({ url, send_resolved: true })) } : {}),
    })),
  };
  return `# managed by orch (role alertmanager): JSON, which is YAML\n${JSON.stringify(cfg, null, 2)}\n`;
}

/** problems of routes and receivers: unknown receiver names, duplicates */
export function receiverProblems(s: Pick<AlertmanagerSettings, 'receivers' | 'routes' | 'defaultReceiver'>): string[] {
  const names = s.receivers.map((r) => r.name);
  const out: string[] = [];
  names.forEach((n, i) => names.indexOf(n) !== i && out.push(`alertmanager_receivers: ${n} twice`));
  const known = (n: string, what: string) => !names.includes(n) && out.push(`${what}: receiver ${n} is not in alertmanager_receivers (${names.join(', ') || 'none'})`);
  known(s.defaultReceiver, 'alertmanager_default_receiver');
  s.routes.forEach((r, i) => known(r.receiver, `alertmanager_routes[${i}]`));
  return out;
}

const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** flags: the web port, storage, and the cluster: the other members as peers, or no cluster when alone */
export function renderAlertmanagerDefaults(o: { port: number; clusterPort: number; me: string; members: PeerHost[] }): string {
  const others = o.members.filter((m) => m.name !== o.me);
  const cluster = others.length
    ? [`--cluster.listen-address=0.0.0.0:${o.clusterPort}`, ...others.map((m) => `--cluster.peer=${hostPort(m.address, o.clusterPort)}`)]
    : ['--cluster.listen-address='];
  const args = [`--config.file=${ALERTMANAGER_CONFIG}`, `--storage.path=${ALERTMANAGER_DATA}`, `--web.listen-address=:${o.port}`, ...cluster].join(' ');
  return lines('# managed by orch (role alertmanager)', `ARGS=${environmentFileValue(args, 'alertmanager flags: no newlines')}`);
}
