/**
 * node-exporter: Prometheus's host metrics exporter on every host (the seeds: all VMs, port 9100). Source: the
 * distribution's package (Debian: prometheus-node-exporter); its listen address comes through the package's
 * defaults file. The prometheus role scrapes every inventory host on its `node_exporter_port`.
 */
import { defineRole } from '../../src/role/define.js';
import { v } from '../../src/role/vars.js';
import { environmentFileValue, ops } from '../../src/ops/index.js';
import { lines } from '../../src/ops/file.js';

export const NODE_EXPORTER_SERVICE = 'prometheus-node-exporter';
export const NODE_EXPORTER_DEFAULTS = '/etc/default/prometheus-node-exporter';

/** the defaults file the Debian unit reads (ExecStart=/usr/bin/prometheus-node-exporter $ARGS) */
export function renderNodeExporterDefaults(o: { listen: string; port: number; extraArgs: string }): string {
  const args = [`--web.listen-address=${o.listen}:${o.port}`, ...o.extraArgs.split(/\s+/).filter(Boolean)].join(' ');
  return lines('# managed by orch (role node-exporter)', `ARGS=${environmentFileValue(args, "node_exporter_extra_args: no newlines")}`);
}

export default defineRole({
  name: 'node-exporter',
  description: "Prometheus node exporter on every host (port 9100), the distribution's package",
  doc: `Host metrics for Prometheus on every host (the seeds: all VMs, 9100). Source: the distribution's package
(Debian: prometheus-node-exporter); ARGS in /etc/default/prometheus-node-exporter sets the listen address, a change
restarts it. The prometheus role scrapes every inventory host at its node_exporter_port.`,
  vars: {
    node_exporter_port: v.port({ default: 9100, doc: 'listen port (/metrics)' }),
    node_exporter_listen_address: v.str({ default: '0.0.0.0', pattern: '^[0-9a-fA-F:.]+$', doc: 'listen address (Prometheus scrapes from another host)' }),
    node_exporter_extra_args: v.str({ default: '', pattern: '^[A-Za-z0-9_.,:=/ -]*$', emptyAllowed: true, doc: 'further flags, space separated (e.g. --collector.systemd)' }),
  },
  declares: ({ vars }) => ({
    ports: [{ port: vars.node_exporter_port, variable: 'node_exporter_port', description: 'node exporter metrics' }],
    memoryMb: 64,
  }),
  operations({ vars, host }) {
    return [
      ops.packages({ names: ['prometheus-node-exporter'], osFamily: host.facts.osFamily }),
      ops.file({
        path: NODE_EXPORTER_DEFAULTS,
        content: renderNodeExporterDefaults({ listen: vars.node_exporter_listen_address, port: vars.node_exporter_port, extraArgs: vars.node_exporter_extra_args }),
        owner: 'root',
        group: 'root',
        mode: 0o644,
        notify: [NODE_EXPORTER_SERVICE],
      }),
      ops.service({ name: NODE_EXPORTER_SERVICE, enabled: true, state: 'started' }),
      ops.waitForHttp({ url: `http://127.0.0.1:${vars.node_exporter_port}/metrics`, timeoutS: 30 }),
    ];
  },
});
