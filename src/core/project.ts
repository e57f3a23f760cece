/** Where the orch project lives (roles/, inventories/, playbooks/), whether running from source or dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'orch') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`orch project root not found above ${start}`);
    dir = up;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** The project root (holds package.json, roles/, inventories/, playbooks/). */
export const projectRoot = findRoot(here);

/** True when this code runs compiled, from dist/. */
export const runningFromDist = here.includes(`${sep}dist${sep}`);

/** The module file to import for a TypeScript source path of the project (compiled twin when built). */
export function moduleFor(sourceTs: string): string {
  const abs = resolve(sourceTs);
  if (!runningFromDist || !abs.startsWith(projectRoot + sep)) return abs;
  const rel = abs.slice(projectRoot.length + 1).replace(/\.ts$/, '.js');
  return join(projectRoot, 'dist', rel);
}
