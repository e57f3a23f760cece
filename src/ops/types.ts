/**
 * Operations state desired state. The runner, per host and phase:
 *   1. collects every operation's fact commands into ONE remote script (facts are deduplicated by key),
 *   2. calls `plan(fact)` on the controller: `ok`/`skip` need no remote work, `change` carries a script,
 *   3. in check mode stops there; otherwise concatenates the change scripts into ONE apply script.
 * `plan` is pure, so it is unit-tested without SSH.
 */

/** A read-only probe run on the host. `parse` is pure. */
export interface Fact<T> {
  /** identity for deduplication: two facts with the same key are gathered once */
  key: string;
  /** POSIX sh; its stdout is passed to `parse`. stdin is /dev/null, stderr is discarded. */
  command: string;
  parse(stdout: string, exitCode: number): T;
  /**
   * The runner may gather this fact together with others in one `stat` (and one `sha256sum`) for all
   * their paths, instead of running `command`: it then passes `parse` the same stdout `command` prints,
   * `S|<STAT_FORMAT fields>` when the path exists and, with `sha256`, `H|<sha256>  -` for a regular file.
   */
  batch?: { stat: string; sha256?: boolean };
}

/** A file's new and old content, for `--diff`. */
export interface FileDiff {
  path: string;
  /** undefined: the file does not exist yet (or its content was not fetched) */
  before?: string;
  after: string;
  /** content not shown (secret file, or binary) */
  masked?: boolean;
}

export type Plan =
  | { status: 'ok'; reason: string }
  | { status: 'skip'; reason: string }
  | {
      status: 'change';
      /** one line: what will change, e.g. `content differs (sha256 1a2b.. -> 3c4d..), mode 0644 -> 0640` */
      reason: string;
      /** POSIX sh fragment that makes the change; runs under `set -e` with stdin from /dev/null */
      script: string;
      diff?: FileDiff;
      /** deferred actions this change makes due (e.g. `daemon-reload`), run once before an op that `flushes` them */
      pending?: PendingAction[];
      /** this change (re)started these services: a pending restart handler for them is not needed */
      started?: string[];
      /**
       * run only when another operation of the host changed something in this phase (a health check after changes,
       * too slow to run on every converged run); otherwise reported as skipped with this reason
       */
      onlyWithChanges?: string;
    };

/** An action run at most once per host and phase, before an op that needs it or at the end of the phase. */
export interface PendingAction {
  key: string;
  script: string;
  description: string;
}

export interface Operation<F = unknown> {
  /** kind of operation, e.g. `file`, `dir`, `package`, `service` */
  kind: string;
  /** what it manages, one line, e.g. `/etc/kafka/server.properties` */
  name: string;
  /** the fact this operation needs (null: it needs none) */
  fact: Fact<F> | null;
  plan(fact: F): Plan;
  /** handlers (service names) to restart at the end of the phase when this operation changed something */
  notify?: string[];
  /** pending action keys that must have run before this op's script (e.g. `daemon-reload` before a service op) */
  flushes?: string[];
  /** content of files written by this op is secret: never shown in diffs or logs */
  secret?: boolean;
  /** extra output interpretation: lines the script prints starting with `\x1eSKIP ` turn a change into skip */
  tags?: string[];
  /**
   * Files to push before the apply script runs (large artifacts, over SFTP). The script then refers
   * to `remote`. Only pushed when the plan is `change`.
   */
  uploads?(fact: F): Array<{ local: string; remote: string; mode?: number }>;
}

export type OpStatus = 'ok' | 'changed' | 'skipped' | 'failed';

export interface OpResult {
  kind: string;
  name: string;
  role?: string;
  status: OpStatus;
  reason: string;
  diff?: FileDiff;
  /** output of the op's script when it failed (masked for secrets by the reporter) */
  output?: string;
}
