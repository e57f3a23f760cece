/**
 * A lock between processes on this machine, for caches that several orch processes (two runs, or test files
 * running in parallel) may fill at the same time: the artifact builds, the wheelhouses, Maven's local repository.
 *
 * The lock is a directory (mkdir is atomic) holding the owner's pid. A lock whose owner is gone (killed run) is
 * taken over; one whose owner lives is waited for. Inside one process the callers already share one promise per
 * cache entry, so the lock only orders processes. The caller re-checks its cache once it holds the lock: the
 * process it waited for has usually filled it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FileLockOptions {
  /** Said once when the lock is held by another live process. */
  log?: (line: string) => void;
  /** What the lock guards, for that line. */
  what?: string;
  /** Polling interval while waiting (ms). */
  pollMs?: number;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(lockDir: string): Promise<number | undefined> {
  try {
    return Number((await readFile(join(lockDir, 'pid'), 'utf8')).trim());
  } catch {
    return undefined;
  }
}

/** Runs `fn` while holding the lock `lockDir` (created next to what it guards; removed afterwards). */
export async function withFileLock<T>(lockDir: string, fn: () => Promise<T>, o: FileLockOptions = {}): Promise<T> {
  await mkdir(dirname(lockDir), { recursive: true });
  const poll = o.pollMs ?? 500;
  let said = false;
  let ownerless = 0;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = await ownerOf(lockDir);
    if (pid === undefined) {
      // just created by another process that has not written its pid yet, or left empty by a crash at that instant
      if (++ownerless * poll > 10_000) await rm(lockDir, { recursive: true, force: true });
    } else if (!alive(pid)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    } else {
      ownerless = 0;
      if (!said) {
        o.log?.(`waiting for process ${pid}, which holds ${o.what ?? lockDir}`);
        said = true;
      }
    }
    await new Promise((r) => setTimeout(r, poll));
  }
  try {
    await writeFile(join(lockDir, 'pid'), `${process.pid}\n`);
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

/**
 * A cache entry filled once across processes: `cached()` when it already holds (no lock taken), else, under the lock
 * `lockDir`, `cached()` again (the process waited for has usually filled it) or `fill()`.
 */
export async function cachedOrFilled<T>(lockDir: string, cached: () => Promise<T | undefined>, fill: () => Promise<T>, o: FileLockOptions = {}): Promise<T> {
  const hit = await cached();
  if (hit !== undefined) return hit;
  return withFileLock(lockDir, async () => (await cached()) ?? fill(), o);
}
