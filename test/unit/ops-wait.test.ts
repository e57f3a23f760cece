import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { acceptingAddresses, waitForHttp, waitForPort } from '../../src/ops/wait.js';
import { applyScript, gather, gatherAsync, shAsync } from './ops-harness.js';

function listen(port = 0, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.end());
    s.listen(port, host, () => resolve(s));
  });
}
const portOf = (s: Server | HttpServer) => (s.address() as { port: number }).port;
const close = (s: Server | HttpServer) => new Promise((r) => s.close(r));

/** a free port: listen on 0, close */
async function freePort(): Promise<number> {
  const s = await listen();
  const p = portOf(s);
  await close(s);
  return p;
}

describe('waitForPort', () => {
  it('hex addresses that accept connections to a host', () => {
    expect(acceptingAddresses('127.0.0.1')).toEqual([
      '0100007F',
      '00000000',
      '0000000000000000FFFF00000100007F',
      '00000000000000000000000000000000',
    ]);
    expect(acceptingAddresses('localhost')).toBeNull();
  });

  it('plan from parsed /proc/net/tcp listeners', () => {
    const op = waitForPort({ port: 9092 });
    expect(op.plan({ listeners: ['00000000:2384'] })).toEqual({ status: 'ok', reason: '127.0.0.1:9092 is listening' });
    expect(op.plan({ listeners: ['0A00000A:2384'] }).status).toBe('change'); // bound to 10.0.0.10 only
    const p = op.plan({ listeners: [] });
    expect(p).toMatchObject({ status: 'change', reason: 'nothing listening on 127.0.0.1:9092 yet: wait up to 60s' });
    expect(waitForPort({ host: 'kafka1', port: 9092 }).plan({ listeners: ['0A00000A:2384'] }).status).toBe('ok');
  });

  it('real fact: sees a listening socket, not a closed port', async () => {
    const s = await listen();
    try {
      const op = waitForPort({ port: portOf(s) });
      const f = gather(op.fact!);
      expect(f.listeners).toContain(`0100007F:${portOf(s).toString(16).toUpperCase().padStart(4, '0')}`);
      expect(op.plan(f)).toEqual({ status: 'ok', reason: `127.0.0.1:${portOf(s)} is listening` });
    } finally {
      await close(s);
    }
    const free = await freePort();
    expect(waitForPort({ port: free }).plan(gather(waitForPort({ port: free }).fact!)).status).toBe('change');
  });

  it('the script waits until the port listens', async () => {
    const port = await freePort();
    const op = waitForPort({ port, timeoutS: 10 });
    const p = op.plan(await gatherAsync(op.fact!));
    if (p.status !== 'change') throw new Error('expected change');
    const run = shAsync(applyScript(p.script));
    await new Promise((r) => setTimeout(r, 1200));
    const s = await listen(port);
    try {
      const r = await run;
      expect(r.code).toBe(0);
      expect(op.plan(await gatherAsync(op.fact!)).status).toBe('ok');
    } finally {
      await close(s);
    }
  });

  it('the script fails with a clear message after the timeout', async () => {
    const port = await freePort();
    const op = waitForPort({ port, timeoutS: 1 });
    const p = op.plan({ listeners: [] });
    const r = await shAsync(applyScript(p.status === 'change' ? p.script : ''));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`orch: nothing listening on 127.0.0.1:${port} after 1s\n`);
  });
});

describe('waitForHttp', () => {
  function http(status: number): Promise<HttpServer> {
    return new Promise((resolve) => {
      const s = createHttpServer((_req, res) => {
        res.statusCode = status;
        res.end('x');
      });
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
  }

  it('plans', () => {
    const op = waitForHttp({ url: 'http://127.0.0.1:8080/health' });
    expect(op.fact!.parse('H|200\n', 0)).toEqual({ code: '200' });
    expect(op.plan({ code: '200' })).toEqual({ status: 'ok', reason: 'answers 200' });
    expect(op.plan({ code: '000' }).reason).toBe('no answer, want 200: wait up to 60s');
    expect(waitForHttp({ url: 'http://x/', status: 204, timeoutS: 5 }).plan({ code: '503' }).reason).toBe('status 503, want 204: wait up to 5s');
    expect(() => waitForHttp({ url: 'ftp://x' })).toThrow(/http/);
  });

  it('real curl: ok when answering, script times out with the last status', async () => {
    const s = await http(200);
    const url = `http://127.0.0.1:${portOf(s)}/health?a=1&b=2`;
    try {
      const op = waitForHttp({ url });
      expect(op.plan(await gatherAsync(op.fact!))).toEqual({ status: 'ok', reason: 'answers 200' });
      const want204 = waitForHttp({ url, status: 204, timeoutS: 1 });
      const p = want204.plan(await gatherAsync(want204.fact!));
      expect(p.reason).toBe('status 200, want 204: wait up to 1s');
      const r = await shAsync(applyScript(p.status === 'change' ? p.script : ''));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(`orch: ${url} did not answer 204 within 1s (last: 200)\n`);
    } finally {
      await close(s);
    }
  });

  it('nothing listening: 000', async () => {
    const port = await freePort();
    const op = waitForHttp({ url: `http://127.0.0.1:${port}/` });
    expect(await gatherAsync(op.fact!)).toEqual({ code: '000' });
  });
});
