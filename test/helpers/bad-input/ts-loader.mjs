// Node module hooks that let a worker thread import the project's TypeScript sources as they are (vitest's
// transform does not reach worker threads): `.ts` files are compiled by esbuild (vitest's own compiler) on
// load, and a `./x.js` import from a `.ts` file resolves to `./x.ts` when that exists, as tsc's NodeNext does.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { URL, fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.endsWith('.js') && /^(\.|\/|file:)/.test(specifier)) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), parent);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const file = fileURLToPath(url);
    const out = await transform(await readFile(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file, sourcemap: 'inline' });
    return { format: 'module', source: out.code, shortCircuit: true };
  }
  return next(url, context);
}
