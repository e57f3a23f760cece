/** `orch ping` and `orch facts HOST`: connect, report OS, user, sudo and round-trip time. */
import { stringify } from 'yaml';
import PQueue from 'p-queue';
import { loadInv, sshConnector, type CommonArgs } from '../context.js';
import { resolveHostVars } from '../../inventory/vars.js';
import { connectionSpec } from '../../inventory/connection.js';
import { gatherHostFacts } from '../../runner/host-facts.js';
import { parseExtraVars } from '../../inventory/extra-vars.js';
import { EXIT } from '../../core/errors.js';
import type { ConnectionSpec } from '../../inventory/types.js';
import type { Connection } from '../../transport/types.js';

function connections(a: CommonArgs, hosts?: string[]): Map<string, ConnectionSpec> {
  const inv = loadInv(a);
  const extra = parseExtraVars(a.extraVars ?? [], process.cwd());
  const out = new Map<string, ConnectionSpec>();
  for (const h of hosts ?? [...inv.hosts.keys()]) {
    if (!inv.hosts.has(h)) throw new Error(`no host ${h} in ${inv.source}`);
    out.set(h, connectionSpec(h, resolveHostVars(inv, h, { extraVars: extra }).values));
  }
  return out;
}

export async function pingCommand(a: CommonArgs & { acceptNewHosts: boolean; limit?: string }): Promise<number> {
  const conns = connections(a);
  const { pool, connect } = sshConnector({ connections: conns }, a.acceptNewHosts);
  let worst = 0;
  const q = new PQueue({ concurrency: 50 });
  try {
    await Promise.all(
      [...conns.keys()].map((h) =>
        q.add(async () => {
          const t = performance.now();
          try {
            const c = await connect(h);
            const tc = performance.now();
            const f = await gatherHostFacts(c);
            const rtt = performance.now() - tc;
            const sudo = await sudoState(c, conns.get(h)!.become);
            process.stdout.write(
              `${h.padEnd(20)} ok  ${f.osId} ${f.osVersion} (${f.osFamily})  user ${f.user}${f.root ? ' (root)' : ''}, ${sudo}  connect ${(tc - t).toFixed(0)} ms, rtt ${rtt.toFixed(0)} ms\n`,
            );
          } catch (e) {
            worst = EXIT.hostUnreachable;
            process.stdout.write(`${h.padEnd(20)} UNREACHABLE  ${(e as Error).message}\n`);
          }
        }),
      ),
    );
  } finally {
    await pool.closeAll();
  }
  return worst;
}

const SUDO_PROBE =
  'if command -v sudo >/dev/null 2>&1; then if sudo -n true 2>/dev/null; then echo nopasswd; else echo password; fi; else echo none; fi';

/** How this login reaches root: directly, through sudo (with or without a password), or not at all. */
async function sudoState(c: Connection, become: boolean): Promise<string> {
  if (become) return 'become: sudo';
  const r = await c.runScript(SUDO_PROBE);
  const s = r.stdout.trim();
  return s === 'nopasswd' ? 'sudo without password' : s === 'password' ? 'sudo asks a password' : 'no sudo';
}

export async function factsCommand(a: CommonArgs & { host: string; acceptNewHosts: boolean }): Promise<number> {
  const conns = connections(a, [a.host]);
  const { pool, connect } = sshConnector({ connections: conns }, a.acceptNewHosts);
  try {
    const f = await gatherHostFacts(await connect(a.host));
    process.stdout.write(stringify({ [a.host]: f }));
    return 0;
  } finally {
    await pool.closeAll();
  }
}
