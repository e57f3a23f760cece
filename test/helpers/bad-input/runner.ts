/**
 * The test's side of ./worker.mjs: runs one case at a time in a child process, with a time bound. A case that
 * does not answer within the bound is a hang: the process is killed (which stops even a synchronous loop) and a
 * new one started for the next case. A process that dies (out of memory: it has a heap limit) is a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BadCase, CaseResult } from './run-case.js';

export type BoundedResult = CaseResult | { outcome: 'hung'; afterMs: number } | { outcome: 'died'; error: string };

export class CaseRunner {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private next = 0;
  private stderr = '';

  /** `memoryMb`: the child's heap limit, so that a case that eats memory kills the child, not the test run */
  constructor(private readonly opts: { timeoutMs: number; memoryMb?: number }) {}

  private start(): Promise<void> {
    const child = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [], {
      execArgv: [`--max-old-space-size=${this.opts.memoryMb ?? 384}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    this.stderr = '';
    child.stderr?.on('data', (d) => (this.stderr = (this.stderr + String(d)).slice(-4000)));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m: { ready?: boolean }) => {
        if (m.ready) {
          child.off('message', onMsg);
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`the case runner exited at start (${code}): ${this.stderr}`));
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
    return this.ready;
  }

  async run(dir: string, c: BadCase): Promise<BoundedResult> {
    if (!this.child) await this.start();
    else await this.ready;
    const child = this.child!;
    const id = ++this.next;
    const t0 = performance.now();
    return new Promise<BoundedResult>((resolve) => {
      const done = (r: BoundedResult, kill: boolean) => {
        clearTimeout(timer);
        child.off('message', onMsg);
        child.off('exit', onExit);
        if (kill) {
          if (this.child === child) this.child = undefined;
          child.kill('SIGKILL');
        }
        resolve(r);
      };
      const onMsg = (m: { id?: number; result?: CaseResult }) => {
        if (m.id === id && m.result) done(m.result, false);
      };
      const onExit = (code: number | null, signal: string | null) =>
        done({ outcome: 'died', error: `the case runner died (${signal ?? code}): ${this.stderr.split('\n').filter(Boolean).slice(0, 8).join('\n')}` }, true);
      const timer = setTimeout(() => done({ outcome: 'hung', afterMs: Math.round(performance.now() - t0) }, true), this.opts.timeoutMs);
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.send({ id, dir, case: c });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
  }
}
