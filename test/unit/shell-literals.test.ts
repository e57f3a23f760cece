/**
 * Issue 16, security: a variable holding shell metacharacters (`'; rm -rf /`, `$(id)`, backticks, newlines) is a
 * literal wherever it ends up, never shell. (1) q(), the quoting helper every interpolated value goes through, is run
 * by sh (dash here, as on the targets) on generated strings: what comes out is the string, unchanged. (2) Every role
 * in roles/, with each of its free-text string variables set to such a payload, is planned and rendered for a host
 * (facts answered by a connection that runs nothing): every fact and change script parses (`sh -n`), no script holds
 * the payload unquoted (it only appears as q(payload), and sh gives that back unchanged), and a file's content, which
 * the script carries in base64, decodes to exactly the rendered text.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argv, q } from '../../src/ops/quote.js';
import { loadInventory } from '../../src/inventory/load.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { defaultGuess, prepareHostPhase } from '../../src/runner/host-phase.js';
import { Profile } from '../../src/runner/profile.js';
import type { Connection } from '../../src/transport/types.js';
import type { PeerHost } from '../../src/role/define.js';
import { tempInventory } from '../helpers/inventory.js';
import { join } from 'node:path';
import AjvModule from 'ajv';

const Ajv = AjvModule.default ?? AjvModule;
const SEED = Number(process.env.ORCH_FUZZ_SEED ?? 1616);

/** What sh prints for each word: `printf '%s\0' WORD...`, split at the NULs. */
function shWords(words: string[]): string[] {
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${words.join(' ')}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\0').slice(0, -1);
}

const METACHARS = [`'; rm -rf /`, '$(id)', '`id`', 'a\nb', "'", '"', '\\', '$HOME', '${HOME}', '*', '?', '[a]', '~', '#', ';', '&', '|', '>', '<', '(', ')', '{', '}', '!', '\t', ' ', '%', '\r', 'ü', '🦀', "'\\''", '--', '-n', ''];

describe('q(): sh reads back exactly the string it quotes', () => {
  it(`the issue's payloads and ${400} generated strings of shell metacharacters (seed ${SEED})`, () => {
    const pieces = fc.oneof(fc.constantFrom(...METACHARS), fc.string({ unit: 'binary', maxLength: 6 }));
    const strings = fc
      .sample(fc.array(pieces, { maxLength: 6 }).map((a) => a.join('')), { seed: SEED, numRuns: 400 })
      .map((s) => s.replace(/\0/g, '')) // an argument cannot hold NUL
      .filter((s) => Buffer.from(s, 'utf8').toString('utf8') === s); // lone surrogates are no UTF-8
    const all = [...METACHARS, `x'; rm -rf / #`, "$(touch /tmp/orch-pwned)\n`touch /tmp/orch-pwned`", ...strings];
    expect(shWords(all.map(q))).toEqual(all);
    expect(shWords([argv(...METACHARS)])).toEqual(METACHARS);
    expect(spawnSync('sh', ['-n', '-c', `echo ${all.map(q).join(' ')}`]).status).toBe(0);
  });
});

const CANARY = '/tmp/orch-shell-literal-canary';
/** one payload holding every metacharacter the issue names; never executed (not even in fact commands: nothing runs) */
const PAYLOAD = `x'; rm -rf / #"; $(touch ${CANARY}) \`touch ${CANARY}\`\nid; echo $HOME & | > <`;

/** A connection that runs nothing: every script is recorded; each fact of a facts script answers "no output, exit 1". */
function recordingConnection(host: string, scripts: string[]): Connection {
  return {
    host,
    runScript: async (script) => {
      scripts.push(script);
      const n = script.match(/^printf '\\036F \d+\\n'$/gm)?.length ?? 0;
      return { stdout: Array.from({ length: n }, (_, i) => `\x1eF ${i}\n\n\x1eE ${i} 1\n`).join(''), stderr: '', code: 0 };
    },
    putFile: async () => {},
    close: async () => {},
  };
}

/** The groups the roles look for (their own and the seeds' service groups), each holding the three hosts. */
function inventoryFor(roles: string[]): string {
  const groups = new Set([...roles.map((r) => r.replace(/-/g, '_')), 'kafka', 'zookeeper', 'etcd', 'patroni', 'redis', 'redis_sentinel', 'keycloak', 'nessie', 'grafana', 'trino_coordinator', 'airflow', 'jupyterhub', 'spark_master', 'spark_worker', 'flink_jobmanager', 'flink_taskmanager', 'clickhouse_keeper']);
  const hosts = [1, 2, 3].map((i) => `        vm${i}: { ansible_host: 192.0.2.${i}, node_id: ${i} }\n`).join('');
  return `all:\n  children:\n    cluster:\n      hosts:\n${hosts}${[...groups].map((g) => `    ${g}:\n      children: { cluster: }\n`).join('')}`;
}

describe('roles: a variable of shell metacharacters is a literal in files and commands', () => {
  it('every role in roles/, its free-text variables set to the payload: scripts parse, the payload only appears quoted, files decode to it', async () => {
    const registry = new RoleRegistry();
    const names = registry.names();
    const ajv = new Ajv({ strict: false });
    const dir = tempInventory({ 'inv/hosts.yml': inventoryFor(names) });
    const inventory = loadInventory(join(dir, 'inv'));
    const report: string[] = [];
    let scriptsChecked = 0;
    let payloadSites = 0;
    for (const name of names) {
      const def = await registry.load(name);
      // the variables whose schema takes the payload (free text: no pattern, no enum)
      let free = Object.entries(def.vars)
        .filter(([, spec]) => ajv.validate(spec.schema, PAYLOAD))
        .map(([k]) => k);
      writeFileSync(join(dir, 'pb.yml'), `- name: a\n  hosts: cluster\n  roles: [${[...(def.dependsOn ?? []), name].join(', ')}]\n`);
      const playbook = loadPlaybook(join(dir, 'pb.yml'));
      const planWith = (vars: string[]) => buildPlan({ inventory, playbook, registry, extraVars: vars.length ? parseExtraVars([JSON.stringify(Object.fromEntries(vars.map((k) => [k, PAYLOAD])))], dir) : [] });
      const render = async (vars: string[]) => {
        const plan = await planWith(vars);
        const peers: PeerHost[] = [...plan.inventory.hosts.values()].map((h) => ({ name: h.name, address: String(plan.hostVars.get(h.name)?.ansible_host), groups: h.groups, vars: plan.hostVars.get(h.name)! }));
        const ph = plan.phases[0];
        const host = ph.hosts[0];
        const scripts: string[] = [];
        const prepared = await prepareHostPhase({
          phase: ph.phase.name,
          host,
          conn: recordingConnection(host.name, scripts),
          facts: defaultGuess(host.name),
          peers: { self: peers.find((p) => p.name === host.name)!, all: peers },
          allRoles: plan.hostRoles.get(host.name),
          cluster: { get: () => 'cluster-Value1' } as unknown as Map<string, string>,
          check: true,
          diff: true,
          emit: () => {},
          profile: new Profile(),
        });
        return { scripts, prepared };
      };
      // a variable the role itself refuses the payload for (an address, a version, a group: refused offline, exit 4,
      // or when rendering) is no free text: dropped; what is left is rendered with all of them at once
      const refused: string[] = [];
      for (const k of free) {
        try {
          await render([k]);
        } catch {
          refused.push(k);
        }
      }
      free = free.filter((k) => !refused.includes(k));
      let out;
      try {
        out = await render(free);
      } catch (e) {
        report.push(`${name}: cannot be planned on this inventory (${(e as Error).message.split('\n')[0].slice(0, 100)})`);
        continue;
      }
      const { scripts, prepared } = out;
      const changes = prepared.items.flatMap((it) => (it.plan?.status === 'change' ? [{ it, script: it.plan.script }] : []));
      const all = [...scripts, ...changes.map((c) => c.script)];
      // one sh -n for all of them (each in a subshell); one by one only to name the one that fails
      if (spawnSync('sh', ['-n'], { input: all.map((x) => `(\n${x}\n)`).join('\n') }).status !== 0) {
        for (const x of all) expect(spawnSync('sh', ['-n'], { input: x }).status, `role ${name}: sh -n refuses:\n${x}`).toBe(0);
      }
      for (const x of all) expect(x.includes(PAYLOAD), `role ${name}: the payload unquoted in a script:\n${x}`).toBe(false);
      scriptsChecked += all.length;
      let sites = 0;
      for (const { it, script } of changes) {
        sites += script.split(q(PAYLOAD)).length - 1;
        if (it.op.kind !== 'file') continue;
        // the file's content travels in base64: decoded, it is the rendered text (secret files show no diff)
        const b64 = /printf '%s\\n' \\\n((?: {2}[A-Za-z0-9+/=]+ \\\n)*) {2}\| base64 -d/.exec(script);
        expect(b64, `role ${name}: ${it.op.name}: content not in base64`).not.toBeNull();
        const content = Buffer.from(b64![1].replace(/[\s\\]/g, ''), 'base64').toString('utf8');
        const diff = it.plan?.status === 'change' ? it.plan.diff : undefined;
        if (diff && !diff.masked) expect(content, `role ${name}: ${it.op.name}`).toBe(diff.after);
        if (content.includes(PAYLOAD)) sites++;
      }
      payloadSites += sites;
      report.push(`${name}: ${free.length} free-text variables${free.length ? ` (${free.join(', ')})` : ''}${refused.length ? `, ${refused.length} refusing it (${refused.join(', ')})` : ''}; ${all.length} scripts, payload at ${sites} places`);
    }
    expect(shWords([q(PAYLOAD)])).toEqual([PAYLOAD]); // what the scripts hold, read back by sh
    expect(existsSync(CANARY)).toBe(false);
    console.log(`shell literals: ${scriptsChecked} scripts parsed by sh -n, the payload at ${payloadSites} places, always q()-quoted or in base64 file content\n  ${report.join('\n  ')}`);
    expect(scriptsChecked).toBeGreaterThan(100);
    expect(payloadSites).toBeGreaterThanOrEqual(4); // found: Kafka's and Patroni's files, a Connect command
  }, 60_000);
});
