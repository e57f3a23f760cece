/**
 * The SSH transport: one SSH connection per host (optionally through ProxyJump hosts), on which
 * scripts run as `sh -s` (sudo-wrapped when becoming, see ./become.ts) over raw ssh2 exec channels,
 * so that output is byte-exact, and files are copied over one lazily opened, reused SFTP session.
 *
 * - at most 4 exec channels are open at once per connection (sshd's MaxSessions is 10); more wait;
 * - host keys are checked against known_hosts (./known-hosts.ts) for every hop;
 * - connect failures other than authentication, host key and local setup problems are retried
 *   with exponential backoff (0.5 s, 1 s, ...);
 * - every failure to connect, and a connection lost later, is an UnreachableError with one line:
 *   `vm1 (10.0.0.1:22): connection refused`.
 */
import { createReadStream } from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, ConnectConfig, SFTPWrapper, ServerHostKeyAlgorithm } from 'ssh2';
import type { ConnectionSpec } from '../inventory/types.js';
import { octal, q } from '../ops/quote.js';
import { scriptCommand } from './become.js';
import { checkHostKey, preferredHostKeyAlgorithms, type HostKeyVerdict, type KnownHostsPolicy } from './known-hosts.js';
import { Semaphore } from './semaphore.js';
import { AuthSetupError, planAuth } from './ssh-auth.js';
import { UnreachableError, type Connection, type ExecResult } from './types.js';

const { Client } = ssh2;

export interface SshOptions {
  knownHosts: KnownHostsPolicy;
  /** SSH keepalive interval (default 15 000 ms; 3 unanswered keepalives drop the connection) */
  keepaliveMs?: number;
  /** connect retries after the first attempt (default 2: after 0.5 s, then 1 s) */
  retries?: number;
  /** first backoff delay (default 500 ms, doubled on every retry) */
  retryDelayMs?: number;
}

/** Exec channels open at once on one connection (sshd MaxSessions defaults to 10; SFTP takes one more). */
export const MAX_CHANNELS = 4;

interface Hop {
  address: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  password?: string;
}

/** Why one connect attempt failed, already phrased for the user. */
class ConnectFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function label(spec: ConnectionSpec): string {
  return `${spec.host} (${spec.address}:${spec.port})`;
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

type SshError = Error & { code?: string; level?: string; reason?: number };

/** A network-level failure, in a few words; `retryable` unless the server said something final. */
export function describeNetworkError(err: unknown, timeoutMs?: number): { message: string; retryable: boolean } {
  const e = err as SshError;
  const msg = e?.message ?? String(err);
  switch (e?.code) {
    case 'ECONNREFUSED':
      return { message: 'connection refused', retryable: true };
    case 'EHOSTUNREACH':
      return { message: 'no route to host', retryable: true };
    case 'ENETUNREACH':
      return { message: 'network is unreachable', retryable: true };
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
      return { message: 'cannot resolve the host name', retryable: true };
    case 'ECONNRESET':
      return { message: 'connection reset by peer', retryable: true };
    case 'EPIPE':
      return { message: 'connection closed by the server', retryable: true };
  }
  if (msg === 'No response from server') return { message: 'connection closed by the server during the handshake', retryable: true };
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') {
    if (/keepalive/i.test(msg)) return { message: 'no answer to SSH keepalives', retryable: true };
    const after = timeoutMs ? ` after ${timeoutMs / 1000}s` : '';
    return { message: `connection timed out${after}`, retryable: true };
  }
  return { message: firstLine(msg) || 'connection failed', retryable: true };
}

function isAuthError(err: unknown): boolean {
  const e = err as SshError;
  return e?.level === 'client-authentication' || /too many authentication failures/i.test(e?.message ?? '');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when the client's socket has closed (whenever that happens). */
function closedPromise(client: SshClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

interface HopState {
  verdict?: HostKeyVerdict;
  verifyError?: Error;
  tried: string[];
}

async function hopConfig(
  hop: Hop,
  spec: ConnectionSpec,
  opts: SshOptions,
  policy: KnownHostsPolicy,
  sock: ClientChannel | undefined,
  state: HopState,
): Promise<ConnectConfig> {
  const auth = await planAuth(hop);
  state.tried = auth.tried;
  return {
    ...(sock ? { sock } : { host: hop.address }),
    port: hop.port,
    username: hop.user,
    authHandler: auth.methods,
    readyTimeout: spec.connectTimeoutMs,
    keepaliveInterval: opts.keepaliveMs ?? 15_000,
    keepaliveCountMax: 3,
    algorithms: {
      serverHostKey: (await preferredHostKeyAlgorithms(policy.file, hop.address, hop.port)) as ServerHostKeyAlgorithm[],
    },
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      checkHostKey(policy, hop.address, hop.port, key).then(
        (verdict) => {
          state.verdict = verdict;
          verify(verdict.ok);
        },
        (err: Error) => {
          state.verifyError = err;
          verify(false);
        },
      );
    },
  };
}

/** Turn a failed handshake of one hop into a user-facing ConnectFailure. */
function hopFailure(err: unknown, hop: Hop, state: HopState, timeoutMs: number): ConnectFailure {
  if (err instanceof ConnectFailure) return err;
  if (err instanceof AuthSetupError) return new ConnectFailure(err.message, false);
  if (state.verifyError) return new ConnectFailure(`cannot check the host key: ${state.verifyError.message}`, false);
  if (state.verdict && !state.verdict.ok) return new ConnectFailure(state.verdict.message, false);
  if (isAuthError(err)) {
    const tried = state.tried.length ? ` (tried ${state.tried.join(', ')})` : '';
    return new ConnectFailure(`authentication failed for user ${hop.user}${tried}`, false);
  }
  const { message, retryable } = describeNetworkError(err, timeoutMs);
  return new ConnectFailure(message, retryable);
}

/** Connect a jump host with plain ssh2; the client keeps an error listener for its whole life. */
function connectClient(config: ConnectConfig): Promise<SshClient> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let ready = false;
    let lastError: Error | undefined;
    client.on('error', (err) => {
      lastError = err;
      if (!ready) reject(err);
    });
    client.once('ready', () => {
      ready = true;
      resolve(client);
    });
    client.on('close', () => {
      if (!ready) reject(lastError ?? new Error('No response from server'));
    });
    client.connect(config);
  });
}

function forwardOut(client: SshClient, address: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, address, port, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}

interface Established {
  ssh: NodeSSH;
  client: SshClient;
  jumps: SshClient[];
  closed: Promise<void>[];
}

async function connectOnce(spec: ConnectionSpec, opts: SshOptions, policy: KnownHostsPolicy): Promise<Established> {
  const jumps: SshClient[] = [];
  const closed: Promise<void>[] = [];
  let sock: ClientChannel | undefined;
  const hops: Hop[] = [...spec.jump, spec];
  try {
    for (let i = 0; i < spec.jump.length; i++) {
      const hop = hops[i];
      const where = `jump host ${hop.user}@${hop.address}:${hop.port}`;
      const state: HopState = { tried: [] };
      let client: SshClient;
      try {
        client = await connectClient(await hopConfig(hop, spec, opts, policy, sock, state));
      } catch (err) {
        const f = hopFailure(err, hop, state, spec.connectTimeoutMs);
        throw new ConnectFailure(`${where}: ${f.message}`, f.retryable);
      }
      jumps.push(client);
      closed.push(closedPromise(client));
      const next = hops[i + 1];
      try {
        sock = await forwardOut(client, next.address, next.port);
      } catch (err) {
        const reason = firstLine((err as Error).message).replace(/^\(SSH\) Channel open failure: /, '');
        throw new ConnectFailure(`${where} cannot reach ${next.address}:${next.port}: ${reason}`, true);
      }
    }
    const state: HopState = { tried: [] };
    const ssh = new NodeSSH();
    try {
      // the key travels in authHandler, never as config.privateKey (node-ssh wants a string there)
      await ssh.connect((await hopConfig(spec, spec, opts, policy, sock, state)) as Parameters<NodeSSH['connect']>[0]);
    } catch (err) {
      ssh.dispose();
      throw hopFailure(err, spec, state, spec.connectTimeoutMs);
    }
    const client = ssh.connection!;
    closed.unshift(closedPromise(client));
    return { ssh, client, jumps, closed };
  } catch (err) {
    for (const jump of jumps.reverse()) jump.end();
    throw err;
  }
}

/**
 * Open an SSH connection to `spec` (through its jump hosts). Throws UnreachableError when the host
 * cannot be reached, authenticated or verified.
 */
export async function connectSsh(spec: ConnectionSpec, opts: SshOptions): Promise<Connection> {
  const policy: KnownHostsPolicy = { ...opts.knownHosts, file: spec.knownHostsFile ?? opts.knownHosts.file };
  const retries = opts.retries ?? 2;
  const delay = opts.retryDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      const est = await connectOnce(spec, opts, policy);
      return new SshConnection(spec, est);
    } catch (err) {
      const f = err instanceof ConnectFailure ? err : new ConnectFailure(describeNetworkError(err).message, true);
      if (!f.retryable || attempt >= retries) {
        const attempts = attempt > 0 ? ` (${attempt + 1} attempts)` : '';
        throw new UnreachableError(spec.host, `${label(spec)}: ${f.message}${attempts}`);
      }
      await sleep(delay * 2 ** attempt);
    }
  }
}

class SshConnection implements Connection {
  readonly host: string;
  private readonly sessions = new Semaphore(MAX_CHANNELS);
  private sftp?: Promise<SFTPWrapper | null>;
  private lost?: UnreachableError;
  private closing = false;
  private readonly inflight = new Set<(err: Error) => void>();

  constructor(
    private readonly spec: ConnectionSpec,
    private readonly est: Established,
  ) {
    this.host = spec.host;
    let lastError: Error | undefined;
    est.client.on('error', (err) => {
      lastError = err;
    });
    est.client.on('close', () => {
      if (this.closing) return;
      const why = lastError ? `: ${describeNetworkError(lastError).message}` : '';
      this.lost = new UnreachableError(spec.host, `${label(spec)}: connection lost${why}`);
      for (const fail of [...this.inflight]) fail(this.lost);
    });
  }

  private check(): void {
    if (this.lost) throw this.lost;
    if (this.closing) throw new Error(`${label(this.spec)}: connection already closed`);
  }

  async runScript(script: string, opts?: { timeoutMs?: number }): Promise<ExecResult> {
    this.check();
    const { command, stdinPrefix } = scriptCommand(this.spec);
    const input = Buffer.concat([Buffer.from(stdinPrefix, 'utf8'), Buffer.from(script, 'utf8')]);
    return this.sessions.run(async () => {
      this.check();
      return this.exec(command, input, opts?.timeoutMs);
    });
  }

  /** Run one command on its own channel, feeding `input` on stdin; collects output as bytes. */
  private exec(command: string, input: Buffer | Readable, timeoutMs?: number): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let channel: ClientChannel | undefined;
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(fail);
        fn();
      };
      const fail = (e: Error) => settle(() => reject(e));
      this.inflight.add(fail);

      this.est.client.exec(command, (openErr, stream) => {
        if (openErr) {
          fail(this.lost ?? new Error(`${label(this.spec)}: cannot open an SSH session: ${openErr.message}`));
          return;
        }
        if (settled) {
          stream.close();
          return;
        }
        channel = stream;
        let code: number | null | undefined;
        let signal: string | undefined;
        stream.on('data', (c: Buffer) => out.push(c));
        stream.stderr.on('data', (c: Buffer) => err.push(c));
        stream.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s;
        });
        stream.on('error', (e: Error) => fail(this.lost ?? new Error(`${label(this.spec)}: ${e.message}`)));
        stream.on('close', () =>
          settle(() => {
            if (code === undefined && this.lost) return reject(this.lost);
            let stderr = Buffer.concat(err).toString('utf8');
            let exit: number;
            if (typeof code === 'number') exit = code;
            else if (signal) exit = 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0);
            else {
              exit = 255;
              stderr += 'orch: the remote command ended without an exit status\n';
            }
            resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, code: exit });
          }),
        );
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            settle(() =>
              resolve({
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: `${Buffer.concat(err).toString('utf8')}orch: script timed out after ${timeoutMs / 1000}s\n`,
                code: 124,
              }),
            );
            try {
              channel?.signal('KILL');
            } catch {
              // the channel may already be closing
            }
            channel?.close();
          }, timeoutMs);
        }
        if (Buffer.isBuffer(input)) stream.end(input);
        else {
          input.on('error', (e) => {
            fail(new Error(`${label(this.spec)}: ${e.message}`));
            stream.close();
          });
          input.pipe(stream);
        }
      });
    });
  }

  /** The connection's one SFTP session, opened on first use; null when the server has no SFTP. */
  private getSftp(): Promise<SFTPWrapper | null> {
    if (!this.sftp) {
      const opening = new Promise<SFTPWrapper | null>((resolve, reject) => {
        this.est.client.sftp((err, sftp) => {
          if (err) {
            if (this.lost) reject(this.lost);
            else resolve(null);
            return;
          }
          sftp.on('error', () => undefined);
          sftp.on('close', () => {
            if (this.sftp === opening) this.sftp = undefined;
          });
          resolve(sftp);
        });
      });
      opening.catch(() => {
        if (this.sftp === opening) this.sftp = undefined;
      });
      this.sftp = opening;
    }
    return this.sftp;
  }

  async putFile(localPath: string, remotePath: string, opts?: { mode?: number }): Promise<void> {
    this.check();
    const fail = (e: Error) => this.lost ?? new Error(`${label(this.spec)}: cannot copy ${localPath} to ${remotePath}: ${e.message}`);
    const sftp = await this.getSftp();
    if (sftp) {
      const mode = opts?.mode;
      await new Promise<void>((resolve, reject) => {
        sftp.fastPut(localPath, remotePath, mode !== undefined ? { mode } : {}, (e) => (e ? reject(fail(e)) : resolve()));
      });
      // the open mode is subject to sftp-server's umask and ignored for existing files: set it explicitly
      if (mode !== undefined) {
        await new Promise<void>((resolve, reject) => {
          sftp.chmod(remotePath, mode, (e) => (e ? reject(fail(e)) : resolve()));
        });
      }
      return;
    }
    // No SFTP subsystem on the server: stream the file through `cat`.
    const chmod = opts?.mode !== undefined ? ` && chmod ${octal(opts.mode)} ${q(remotePath)}` : '';
    const res = await this.sessions.run(() => this.exec(`cat > ${q(remotePath)}${chmod}`, createReadStream(localPath)));
    if (res.code !== 0) throw fail(new Error(firstLine(res.stderr) || `exit code ${res.code}`));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closedErr = new Error(`${label(this.spec)}: connection closed`);
    for (const fail of [...this.inflight]) fail(closedErr);
    const sftp = this.sftp;
    this.sftp = undefined;
    if (sftp) {
      const s = await sftp.catch(() => null);
      s?.end();
    }
    this.est.ssh.dispose();
    for (const jump of [...this.est.jumps].reverse()) jump.end();
    const allClosed = Promise.all(this.est.closed);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 3000)))]);
    clearTimeout(timer);
  }
}
