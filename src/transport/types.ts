/**
 * A connection to one host. Implementations: SSH (./ssh.ts) and local (./local.ts, for tests).
 * All scripts are POSIX sh, passed on stdin to `sh -s` (wrapped in sudo when `become`).
 */
export interface ExecResult {
  /** byte-exact stdout, decoded as UTF-8 (no trimming) */
  stdout: string;
  stderr: string;
  code: number;
}

export interface Connection {
  readonly host: string;
  /** run a POSIX sh script on the host (as root when the connection becomes) */
  runScript(script: string, opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** copy a local file to the host (as the login user; use a path it can write, then move it as root) */
  putFile(localPath: string, remotePath: string, opts?: { mode?: number }): Promise<void>;
  close(): Promise<void>;
}

/** The host cannot be reached (connect, auth, host key, lost connection): exit code 3. */
export class UnreachableError extends Error {
  constructor(readonly host: string, message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}
