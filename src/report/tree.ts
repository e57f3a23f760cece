/**
 * listr2 tree on a terminal: phase -> host, each host's line showing the operation being reported and,
 * when done, its counts. The runner is not aware of listr2: this only consumes events.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { RunEvent } from './events.js';
import { recapTable } from './recap.js';

type Waiter = { match: (e: RunEvent) => boolean; resolve: (e: RunEvent) => void };

export interface TreeReporter {
  sink: (e: RunEvent) => void;
  /** resolves once the tree has finished rendering */
  done(): Promise<void>;
}

export function treeReporter(mask: (s: string) => string, write: (s: string) => void, opts: { profile?: boolean } = {}): TreeReporter {
  const waiters: Waiter[] = [];
  const past: RunEvent[] = [];
  const hostTasks = new Map<string, ListrTaskWrapper<any, any, any>>();
  let running: Promise<unknown> = Promise.resolve();
  let recap: Extract<RunEvent, { type: 'recap' }> | undefined;
  const waitFor = (match: (e: RunEvent) => boolean) =>
    new Promise<RunEvent>((resolve) => {
      const hit = past.find(match);
      if (hit) resolve(hit);
      else waiters.push({ match, resolve });
    });
  const endOf = (e: RunEvent) => e.type === 'recap';

  const sink = (e: RunEvent) => {
    past.push(e);
    if (e.type === 'run-start') {
      const list = new Listr(
        e.phases.map((name) => ({
          title: mask(`phase ${name}`),
          task: async (_ctx: unknown, task: ListrTaskWrapper<any, any, any>) => {
            const ev = await waitFor((x) => (x.type === 'phase-start' && x.phase === name) || endOf(x));
            if (ev.type !== 'phase-start') return task.skip(`${name}: not run`);
            task.title = mask(`phase ${ev.index} ${name}`);
            return task.newListr(
              ev.hosts.map((h) => ({
                title: h,
                task: async (_c: unknown, ht: ListrTaskWrapper<any, any, any>) => {
                  hostTasks.set(`${name}/${h}`, ht);
                  const end = await waitFor((x) => ((x.type === 'host-end' || x.type === 'host-failed') && x.phase === name && x.host === h) || endOf(x));
                  if (end.type === 'host-failed') throw new Error(mask(`${h}: ${end.unreachable ? 'unreachable' : 'failed'}: ${end.error}`));
                  if (end.type === 'host-end') {
                    const c = end.counts;
                    ht.title = `${h}: ok=${c.ok} changed=${c.changed} skipped=${c.skipped} (${(end.elapsedMs / 1000).toFixed(1)}s)`;
                  } else ht.skip(`${h}: not run`);
                },
              })),
              { concurrent: true, exitOnError: false },
            );
          },
        })),
        { exitOnError: false, rendererOptions: { collapseSubtasks: false } },
      );
      running = list.run().catch(() => undefined);
    }
    if (e.type === 'op-result' && (e.result.status === 'changed' || e.result.status === 'failed')) {
      const t = hostTasks.get(`${e.phase}/${e.host}`);
      if (t) t.output = mask(`${e.result.status} ${e.result.kind} ${e.result.name}`);
    }
    if (e.type === 'recap') recap = e;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].match(e)) {
        waiters[i].resolve(e);
        waiters.splice(i, 1);
      }
    }
  };
  return {
    sink,
    async done() {
      await running;
      const failures = past.filter((x) => x.type === 'op-result' && x.result.status === 'failed');
      for (const f of failures) if (f.type === 'op-result') write(mask(`${f.host} FAILED ${f.result.kind} ${f.result.name}: ${f.result.reason}\n${f.result.output ?? ''}\n`));
      if (recap) write(mask(recapTable(recap, opts)) + '\n');
    },
  };
}
