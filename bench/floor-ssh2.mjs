#!/usr/bin/env node
/**
 * Benchmark floor "floor-ssh2": one Node process connects to every host at once with ssh2 and runs one
 * script on each (`sh -s`, script on stdin), with no checks at all. It is what any ssh2-based tool must
 * at least pay for the same writes: key exchange + auth per host, one exec channel, the script's own work.
 *
 *   node bench/floor-ssh2.mjs MANIFEST.json
 *   MANIFEST: { "key": "/path/to/private_key", "user": "root",
 *               "hosts": [{ "name": "bench-h01", "address": "10.199.0.11", "script": "/path/to/script.sh" }, ...] }
 *
 * Exit 0 when every script exited 0; prints one line per failed host on stderr.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const manifest = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const privateKey = readFileSync(manifest.key);

function runOne(h) {
  const script = readFileSync(h.script);
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    let done = false;
    const finish = (code, msg) => {
      if (done) return;
      done = true;
      c.end();
      resolve({ host: h.name, code, msg });
    };
    c.on('ready', () => {
      c.exec('sh -s', (err, ch) => {
        if (err) return finish(255, err.message);
        let out = '';
        ch.on('data', (d) => (out += d));
        ch.stderr.on('data', (d) => (out += d));
        ch.on('exit', (code) => finish(code ?? 255, out.trim().split('\n').slice(-3).join(' | ')));
        ch.on('close', () => finish(255, 'channel closed without exit status'));
        ch.end(script);
      });
    });
    c.on('error', (e) => finish(255, e.message));
    c.connect({ host: h.address, port: 22, username: manifest.user ?? 'root', privateKey, readyTimeout: 30_000 });
  });
}

const results = await Promise.all(manifest.hosts.map(runOne));
const bad = results.filter((r) => r.code !== 0);
for (const r of bad) process.stderr.write(`${r.host}: exit ${r.code}: ${r.msg}\n`);
process.stdout.write(`floor-ssh2: ${results.length - bad.length}/${results.length} hosts ok\n`);
process.exitCode = bad.length ? 1 : 0;
