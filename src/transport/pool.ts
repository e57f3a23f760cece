/**
 * One connection per host for the whole run: the first `get` for a host connects, every later
 * (or concurrent) caller shares the same promise, including a failed one, so an unreachable host
 * is not hammered again. `closeAll` closes every connection, waiting for ones still connecting.
 */
import type { ConnectionSpec } from '../inventory/types.js';
import { defaultKnownHostsFile, type KnownHostsPolicy } from './known-hosts.js';
import { connectSsh, type SshOptions } from './ssh.js';
import type { Connection } from './types.js';

export type Connector = (spec: ConnectionSpec) => Promise<Connection>;

export interface PoolOptions extends Partial<SshOptions> {
  /** how to open a connection (default: connectSsh with the other options) */
  connector?: Connector;
}

export class ConnectionPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly connector: Connector;
  private closed = false;

  /** `new ConnectionPool(connector)` or `new ConnectionPool({ knownHosts, retries, ... })` */
  constructor(connectorOrOpts: Connector | PoolOptions = {}) {
    const opts: PoolOptions = typeof connectorOrOpts === 'function' ? { connector: connectorOrOpts } : connectorOrOpts;
    const knownHosts: KnownHostsPolicy = opts.knownHosts ?? { file: defaultKnownHostsFile(), acceptNew: false };
    this.connector =
      opts.connector ??
      ((spec) => connectSsh(spec, { knownHosts, keepaliveMs: opts.keepaliveMs, retries: opts.retries, retryDelayMs: opts.retryDelayMs }));
  }

  get(host: string, spec: ConnectionSpec): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error(`connection pool is closed (asked for ${host})`));
    let conn = this.connections.get(host);
    if (!conn) {
      conn = this.connector(spec);
      conn.catch(() => undefined); // callers see the rejection; the pool must not leak an unhandled one
      this.connections.set(host, conn);
    }
    return conn;
  }

  /** hosts with a connection (open, opening or failed) */
  hosts(): string[] {
    return [...this.connections.keys()];
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const pending = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      pending.map(async (p) => {
        const conn = await p.catch(() => undefined);
        await conn?.close().catch(() => undefined);
      }),
    );
  }
}
