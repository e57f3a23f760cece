/**
 * The SSH transport against a real OpenSSH server started for this file on 127.0.0.1 (a free port,
 * temp host key, temp authorized_keys). Needs /usr/sbin/sshd (Debian: openssh-server) and
 * ssh-keygen; the become tests also need sudo. Never connects anywhere but 127.0.0.1.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../src/inventory/types.js';
import { connectSsh, type SshOptions } from '../../src/transport/ssh.js';
import { UnreachableError, type Connection } from '../../src/transport/types.js';

const SSHD = '/usr/sbin/sshd';
const user = userInfo().username;
const hasSudo = existsSync('/usr/bin/sudo') && userInfo().uid === 0;

let dir: string;
let port: number;
let sshd: ChildProcess | undefined;
let sshdLog = '';
let clientKey: string;
let wrongKey: string;
let knownHosts: string;
let hostKeyLine: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

async function waitForPort(p: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${p}:\n${sshdLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orch-test', '-f', file]);
}

/** `[127.0.0.1]:port ssh-ed25519 AAAA...` for a public key file. */
function knownLine(pubFile: string): string {
  const [type, b64] = readFileSync(pubFile, 'utf8').trim().split(/\s+/);
  return `[127.0.0.1]:${port} ${type} ${b64}`;
}

function spec(over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return {
    host: 'vm1',
    address: '127.0.0.1',
    port,
    user,
    privateKeyFile: clientKey,
    become: false,
    jump: [],
    connectTimeoutMs: 5000,
    ...over,
  };
}

function opts(over: Partial<SshOptions> = {}): SshOptions {
  return { knownHosts: { file: knownHosts, acceptNew: false }, ...over };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (apt-get install -y openssh-server)`);
  delete process.env.SSH_AUTH_SOCK; // only the key files given in the specs
  dir = mkdtempSync(join(tmpdir(), 'orch-sshd-'));
  port = await freePort();
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'other_host_ed25519'));
  clientKey = join(dir, 'id_ed25519');
  wrongKey = join(dir, 'wrong_ed25519');
  keygen(clientKey);
  keygen(wrongKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'MaxSessions 10',
      'MaxStartups 100',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  if (userInfo().uid === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir
  sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (c: Buffer) => (sshdLog += c.toString()));
  await waitForPort(port, 10_000);
  hostKeyLine = knownLine(join(dir, 'host_ed25519.pub'));
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${hostKeyLine}\n`);
}, 60_000);

afterAll(async () => {
  if (sshd && sshd.exitCode === null) {
    const exited = new Promise((r) => sshd!.once('exit', r));
    sshd.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (sshd.exitCode === null) sshd.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SSH transport against a local sshd', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await connectSsh(spec(), opts());
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('returns byte-exact stdout, stderr and exit codes', async () => {
    const r = await conn.runScript(`printf '  a b  \\n\\n\\n'\nprintf 'ü€  '\nprintf ' err \\n\\n' >&2\nexit 3\n`);
    expect(r).toEqual({ stdout: '  a b  \n\n\nü€  ', stderr: ' err \n\n', code: 3 });
    expect(conn.host).toBe('vm1');
  });

  it('reports death by signal as 128 + signal', async () => {
    expect((await conn.runScript('kill -TERM $$')).code).toBe(143);
  });

  it('feeds a 5000-line script on stdin', async () => {
    const script = Array.from({ length: 5000 }, (_, i) => `echo "line ${i}  "`).join('\n') + '\n';
    const r = await conn.runScript(script);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(5001);
    expect(lines[4999]).toBe('line 4999  ');
  });

  it('runs 20 concurrent scripts on one connection without exceeding MaxSessions', async () => {
    const marks = join(dir, 'marks');
    mkdirSync(marks, { recursive: true });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        conn.runScript(`touch ${marks}/${i}\nsleep 0.3\nn=$(ls ${marks} | wc -l)\nrm ${marks}/${i}\necho "${i} $n"\n`),
      ),
    );
    const peak = Math.max(...results.map((r, i) => {
      expect(r.code).toBe(0);
      const [id, n] = r.stdout.trim().split(' ');
      expect(id).toBe(String(i));
      return Number(n);
    }));
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThanOrEqual(2);
  });

  it('copies a 2 MB file byte for byte over SFTP, with the requested mode', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const local = join(dir, 'big.bin');
    writeFileSync(local, data);
    const remote = join(dir, 'big.copy');
    await conn.putFile(local, remote, { mode: 0o640 });
    const r = await conn.runScript(`sha256sum ${remote} | cut -d' ' -f1; stat -c %a ${remote}`);
    expect(r.stdout).toBe(`${sha256(data)}\n640\n`);
    // the SFTP session is reused: a second and a concurrent batch of copies work too
    await Promise.all([1, 2, 3].map((i) => conn.putFile(local, `${remote}.${i}`)));
    expect(readFileSync(`${remote}.3`).equals(data)).toBe(true);
    await expect(conn.putFile(local, join(dir, 'no-such-dir', 'x'))).rejects.toThrow(/cannot copy/);
  });

  it('times out a script with exit code 124 and keeps the connection usable', async () => {
    const started = Date.now();
    const r = await conn.runScript('echo started; sleep 10', { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('started\n');
    expect((await conn.runScript('echo again')).stdout).toBe('again\n');
  });

  it.skipIf(!hasSudo)('becomes root (and another user) with sudo', async () => {
    const root = await connectSsh(spec({ become: true }), opts());
    expect((await root.runScript('id -u')).stdout).toBe('0\n');
    await root.close();
    const nobody = await connectSsh(spec({ become: true, becomeUser: 'nobody' }), opts());
    expect((await nobody.runScript('id -un')).stdout).toBe('nobody\n');
    await nobody.close();
    // root is never asked for a password: the password line must be skipped, not run or echoed
    const withPw = await connectSsh(spec({ become: true, becomePassword: 'hunter2 secret' }), opts());
    const r = await withPw.runScript('id -u; echo "  done  "');
    expect(r).toEqual({ stdout: '0\n  done  \n', stderr: '', code: 0 });
    await withPw.close();
  });

  it('connects through a jump host (the same sshd, forwarding to itself)', async () => {
    const jumped = await connectSsh(
      spec({ host: 'vm2', jump: [{ address: '127.0.0.1', port, user, privateKeyFile: clientKey }] }),
      opts(),
    );
    const r = await jumped.runScript('printf "via jump  \\n"');
    expect(r.stdout).toBe('via jump  \n');
    await jumped.close();
    // two jumps deep
    const hop = { address: '127.0.0.1', port, user, privateKeyFile: clientKey };
    const twice = await connectSsh(spec({ host: 'vm3', jump: [hop, hop] }), opts());
    expect((await twice.runScript('echo ok')).stdout).toBe('ok\n');
    await twice.close();
  });

  it('reports a lost connection as UnreachableError', async () => {
    const c = await connectSsh(spec({ host: 'vm4' }), opts({ keepaliveMs: 500 }));
    // kill this connection's sshd session process (the parent of the login command)
    await expect(c.runScript('kill -9 $PPID; sleep 5')).rejects.toThrow(UnreachableError);
    await expect(c.runScript('echo hi')).rejects.toThrow(/vm4 \(127\.0\.0\.1:\d+\): connection lost/);
    await c.close();
  });
});

describe('SSH connection failures', () => {
  it('refuses an unknown host unless asked to accept new hosts, then records it', async () => {
    const file = join(dir, 'known_hosts.new');
    const err = await connectSsh(spec(), opts({ knownHosts: { file, acceptNew: false } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toMatch(/^vm1 \(127\.0\.0\.1:\d+\): unknown host key for \[127\.0\.0\.1\]:\d+ .*--accept-new-hosts/);
    expect(existsSync(file)).toBe(false);

    const conn = await connectSsh(spec(), opts({ knownHosts: { file, acceptNew: true } }));
    expect((await conn.runScript('echo ok')).stdout).toBe('ok\n');
    await conn.close();
    expect(readFileSync(file, 'utf8')).toBe(`${hostKeyLine}\n`);
    // now known: accepted without acceptNew
    const again = await connectSsh(spec(), opts({ knownHosts: { file, acceptNew: false } }));
    await again.close();
  });

  it('honours the per-host known_hosts file of the spec', async () => {
    const file = join(dir, 'known_hosts.host');
    writeFileSync(file, `${hostKeyLine}\n`);
    const conn = await connectSsh(spec({ knownHostsFile: file }), opts({ knownHosts: { file: join(dir, 'nope'), acceptNew: false } }));
    await conn.close();
  });

  it('always refuses a changed host key, naming the line to remove', async () => {
    const file = join(dir, 'known_hosts.changed');
    writeFileSync(file, `# first\n${knownLine(join(dir, 'other_host_ed25519.pub'))}\n`);
    const started = Date.now();
    const err = await connectSsh(spec(), opts({ knownHosts: { file, acceptNew: true } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain('host key mismatch');
    expect((err as Error).message).toContain(`${file}:2`);
    expect((err as Error).message).not.toContain('\n');
    expect(Date.now() - started).toBeLessThan(400); // not retried
  });

  it('reports connection refused after retrying', async () => {
    const closed = await freePort();
    const err = await connectSsh(spec({ port: closed }), opts({ retries: 1, retryDelayMs: 50 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).host).toBe('vm1');
    expect((err as Error).message).toBe(`vm1 (127.0.0.1:${closed}): connection refused (2 attempts)`);
  });

  it('reports an authentication failure without retrying', async () => {
    const err = await connectSsh(spec({ privateKeyFile: wrongKey }), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toBe(`vm1 (127.0.0.1:${port}): authentication failed for user ${user} (tried key ${wrongKey})`);
  });

  it('reports a missing key file clearly', async () => {
    const err = await connectSsh(spec({ privateKeyFile: join(dir, 'missing') }), opts()).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`vm1 (127.0.0.1:${port}): private key file ${join(dir, 'missing')} does not exist`);
  });

  it('reports a jump host that cannot reach the target', async () => {
    const closed = await freePort();
    const err = await connectSsh(
      spec({ port: closed, jump: [{ address: '127.0.0.1', port, user, privateKeyFile: clientKey }] }),
      opts({ retries: 0 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toMatch(
      new RegExp(`^vm1 \\(127\\.0\\.0\\.1:${closed}\\): jump host ${user}@127\\.0\\.0\\.1:${port} cannot reach 127\\.0\\.0\\.1:${closed}: `),
    );
  });

  it('reports an unknown jump host key as the jump host', async () => {
    const err = await connectSsh(
      spec({ jump: [{ address: '127.0.0.1', port, user, privateKeyFile: clientKey }] }),
      opts({ knownHosts: { file: join(dir, 'empty_known_hosts'), acceptNew: false } }),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^vm1 \(127\.0\.0\.1:\d+\): jump host .*: unknown host key/);
  });
});
