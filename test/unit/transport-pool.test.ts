import { describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../src/inventory/types.js';
import { ConnectionPool } from '../../src/transport/pool.js';
import { Semaphore } from '../../src/transport/semaphore.js';
import { UnreachableError, type Connection } from '../../src/transport/types.js';

function spec(host: string): ConnectionSpec {
  return { host, address: '127.0.0.1', port: 22, user: 'u', become: false, jump: [], connectTimeoutMs: 1000 };
}

function fakeConnector() {
  const calls: string[] = [];
  const closed: string[] = [];
  const connector = async (s: ConnectionSpec): Promise<Connection> => {
    calls.push(s.host);
    await new Promise((r) => setTimeout(r, 20));
    if (s.host.startsWith('down')) throw new UnreachableError(s.host, `${s.host}: connection refused`);
    return {
      host: s.host,
      runScript: async () => ({ stdout: '', stderr: '', code: 0 }),
      putFile: async () => undefined,
      close: async () => void closed.push(s.host),
    };
  };
  return { connector, calls, closed };
}

describe('ConnectionPool', () => {
  it('shares one connection per host between concurrent and later callers', async () => {
    const f = fakeConnector();
    const pool = new ConnectionPool(f.connector);
    const [a, b, c] = await Promise.all([pool.get('vm1', spec('vm1')), pool.get('vm1', spec('vm1')), pool.get('vm2', spec('vm2'))]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(await pool.get('vm1', spec('vm1'))).toBe(a);
    expect(f.calls).toEqual(['vm1', 'vm2']);
    await pool.closeAll();
    expect(f.closed.sort()).toEqual(['vm1', 'vm2']);
    await expect(pool.get('vm1', spec('vm1'))).rejects.toThrow(/closed/);
  });

  it('remembers a failed connection for the run (no reconnect storm)', async () => {
    const f = fakeConnector();
    const pool = new ConnectionPool({ connector: f.connector });
    await expect(pool.get('down1', spec('down1'))).rejects.toBeInstanceOf(UnreachableError);
    await expect(pool.get('down1', spec('down1'))).rejects.toThrow('down1: connection refused');
    expect(f.calls).toEqual(['down1']);
    await pool.closeAll();
  });

  it('closeAll waits for connections still opening', async () => {
    const f = fakeConnector();
    const pool = new ConnectionPool(f.connector);
    const pending = pool.get('vm3', spec('vm3'));
    await pool.closeAll();
    expect(f.closed).toEqual(['vm3']);
    await pending;
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in order', async () => {
    const sem = new Semaphore(4);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sem.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          if (i === 3) throw new Error('boom');
        }).catch(() => undefined),
      ),
    );
    expect(peak).toBe(4);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sem.running).toBe(0);
  });
});
