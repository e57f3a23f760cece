/** The one event stream of a run. The runner only emits events; every output format consumes them. */
import type { OpResult, OpStatus } from '../ops/types.js';

export interface HostCounts {
  ok: number;
  changed: number;
  skipped: number;
  failed: number;
  unreachable: number;
}

export type RunEvent =
  | { type: 'run-start'; playbook: string; inventory: string; hosts: string[]; check: boolean; phases: string[] }
  | { type: 'phase-start'; phase: string; index: number; hosts: string[] }
  | { type: 'phase-end'; phase: string; index: number; elapsedMs: number }
  | { type: 'host-start'; phase: string; host: string }
  | { type: 'role-start'; phase: string; host: string; role: string }
  | { type: 'op-result'; phase: string; host: string; result: OpResult }
  | { type: 'handler'; phase: string; host: string; name: string; status: OpStatus; reason: string }
  | { type: 'host-end'; phase: string; host: string; counts: HostCounts; elapsedMs: number }
  | { type: 'host-failed'; phase: string; host: string; error: string; unreachable: boolean }
  | { type: 'run-aborted'; phase: string; reason: string }
  | {
      type: 'recap';
      hosts: Record<string, HostCounts & { elapsedMs: number }>;
      elapsedMs: number;
      exitCode: number;
      /** phase to resume from with `--from-phase` when the run did not finish cleanly */
      resumeFrom?: string;
      /** time spent per stage (connect, facts, plan, apply, render) when profiling */
      profile?: Record<string, number>;
      /** service groups the inventory places that no role of the playbook deploys, with their hosts */
      notAutomated?: Array<{ group: string; hosts: string[] }>;
      /** found during the run: hosts whose facts (cgroup limits, else the machine) are smaller than their roles declare */
      warnings?: string[];
    };

export type EventSink = (e: RunEvent) => void;
