/**
 * Small helpers around dockerode shared by the simulator (image build, hosts, apt proxy).
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';

let client: Docker | undefined;

/** The Docker client (DOCKER_HOST or /var/run/docker.sock). */
export function docker(): Docker {
  client ??= new Docker();
  return client;
}

export type Log = (line: string) => void;
export const noLog: Log = () => {};

/** Fail with a helpful message when the Docker daemon does not answer. */
export async function assertDockerUp(): Promise<void> {
  try {
    await docker().ping();
  } catch (e) {
    throw new Error(
      `cannot reach the Docker daemon (${(e as Error).message}). ` +
        `Run \`bash scripts/setup-host.sh\` (installs docker.io and starts dockerd), or start dockerd yourself.`,
    );
  }
}

export interface ExecOutput {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run a command in a running container (like `docker exec`), collecting its output. */
export async function dockerExec(
  containerId: string,
  cmd: string[],
  opts: { timeoutMs?: number; user?: string } = {},
): Promise<ExecOutput> {
  const container = docker().getContainer(containerId);
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: opts.user });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on('data', (b: Buffer) => outChunks.push(b));
  err.on('data', (b: Buffer) => errChunks.push(b));
  docker().modem.demuxStream(stream, out, err);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`docker exec ${cmd.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  // the exit code can lag a little behind the end of the stream
  let code: number | null = null;
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running) {
      code = info.ExitCode;
      break;
    }
    await sleep(20);
  }
  return {
    stdout: Buffer.concat(outChunks).toString('utf8'),
    stderr: Buffer.concat(errChunks).toString('utf8'),
    code: code ?? -1,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run a local program; rejects with its stderr on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; log?: Log; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    const lineLogger = (prefix: string) => {
      let buf = '';
      return (chunk: string) => {
        if (!opts.log) return;
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trimEnd();
          buf = buf.slice(i + 1);
          if (line) opts.log(prefix + line);
        }
      };
    };
    const logOut = lineLogger('  ');
    const logErr = lineLogger('  ');
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      logOut(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      logErr(s);
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail}`));
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Is `cmd` on PATH? */
export async function have(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/** Run `tasks` with at most `limit` of them at a time; rejects with the first error after all settled. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new Error(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'));
  }
  return results;
}
