/**
 * A Connection to this machine: scripts run with `sh -s` (script on stdin), putFile is a copy.
 * Used by the runner's unit tests, so it behaves like the SSH transport: byte-exact output,
 * timeouts reported as exit code 124, no parent directories created by putFile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { Connection, ExecResult } from './types.js';

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export function localConnection(name = 'localhost'): Connection {
  let closed = false;
  const live = new Set<ChildProcess>();
  return {
    host: name,
    runScript(script, opts) {
      if (closed) return Promise.reject(new Error(`${name}: connection closed`));
      return new Promise<ExecResult>((resolve, reject) => {
        // own process group, so that a timeout kills the script's children too
        const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        live.add(child);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer =
          opts?.timeoutMs !== undefined
            ? setTimeout(() => {
                timedOut = true;
                killGroup(child);
              }, opts.timeoutMs)
            : undefined;
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        child.stdin.on('error', () => undefined); // EPIPE when the script exits before reading all of stdin
        child.on('error', (e) => {
          clearTimeout(timer);
          live.delete(child);
          reject(new Error(`${name}: cannot run sh: ${e.message}`));
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          live.delete(child);
          let stderr = Buffer.concat(err).toString('utf8');
          let exit = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
          if (timedOut) {
            exit = 124;
            stderr += `orch: script timed out after ${opts!.timeoutMs! / 1000}s\n`;
          }
          resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, code: exit });
        });
        child.stdin.end(script);
      });
    },
    async putFile(localPath, remotePath, opts) {
      if (closed) throw new Error(`${name}: connection closed`);
      await fs.copyFile(localPath, remotePath, 0);
      if (opts?.mode !== undefined) await fs.chmod(remotePath, opts.mode);
    },
    async close() {
      closed = true;
      for (const child of live) killGroup(child);
    },
  };
}
