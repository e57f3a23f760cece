/**
 * Issue 16, bad input by hand: cases the property test (bad-input-property.test.ts) is unlikely to hit by chance,
 * and the regressions it found, each with the input that broke the engine. Every refusal is an InputError (exit 4)
 * whose problems name file, line and key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadInventory } from '../../src/inventory/load.js';
import { expandHostPattern, MAX_RANGE_HOSTS } from '../../src/inventory/host-pattern.js';
import { problemsOf as problemsOfSync, tempInventory } from '../helpers/inventory.js';
import { parseExtraVars } from '../../src/inventory/extra-vars.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { buildPlan } from '../../src/playbook/plan.js';
import { RoleRegistry } from '../../src/role/registry.js';
import { InputError, type InputProblem } from '../../src/core/errors.js';
import AjvModule from 'ajv';

const Ajv = AjvModule.default ?? AjvModule;
import { MAX_INPUT_BYTES, parseYaml } from '../../src/inventory/yaml-file.js';

/** For README's figures: the bad inputs refused with exit 4 here, their problems, the wrong-typed role variables among them. */
const tally = { refused: 0, problems: 0, wrongTypes: 0 };
afterAll(() => {
  if (tally.refused) console.log(`[figures] bad input by hand: ${tally.refused} inputs refused with exit 4 (${tally.problems} problems, ${tally.wrongTypes} of them a wrong-typed role variable)`);
});
const counted = (problems: InputProblem[]) => {
  tally.refused++;
  tally.problems += problems.length;
  return problems;
};

/** The problems of the InputError (exit 4) `fn` throws; fails on anything else. */
const problemsOf = (fn: () => unknown): InputProblem[] => counted(problemsOfSync(fn));

/** The problems of the InputError (exit 4) `fn` rejects with; fails on anything else. */
async function asyncProblemsOf(fn: () => Promise<unknown>): Promise<InputProblem[]> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof InputError && e.exitCode === 4) return counted(e.problems);
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('regressions found by the property test', () => {
  it("a host range of a billion hosts ('vm[0:999999999]', 'x[0:99999][0:99999]') is refused at once, not expanded until memory runs out", () => {
    expect(expandHostPattern('vm[0:999999999]')).toEqual({ error: `host range in 'vm[0:999999999]': [0:999999999] makes 1000000000 hosts, more than the ${MAX_RANGE_HOSTS} one entry may have` });
    expect(expandHostPattern('x[0:99][0:999]')).toEqual({ error: `host range in 'x[0:99][0:999]': the ranges make more than the ${MAX_RANGE_HOSTS} hosts one entry may have` });
    expect((expandHostPattern('n[1:10000]') as { hosts: string[] }).hosts).toHaveLength(10_000);
    const dir = tempInventory({ 'hosts.ini': '[web]\nx[0:99999][0:99999] ansible_host=192.0.2.1\n' });
    expect(problemsOf(() => loadInventory(dir))).toEqual([
      { file: join(dir, 'hosts.ini'), line: 2, key: 'x[0:99999][0:99999]', message: `host range in 'x[0:99999][0:99999]': [0:99999] makes 100000 hosts, more than the ${MAX_RANGE_HOSTS} one entry may have` },
    ]);
  }); // unbounded, this took minutes and 500 MB+ of memory

  it('INI problems name their key: a bad section header or type, [g:vars] of no group, an unparsable host line', () => {
    // from the property test: '[bad group]', '[a:b]', '[x:vars]' alone, "vm1 a='unclosed", 'vm1 a=b\\'
    const dir = tempInventory({ 'hosts.ini': "[bad group]\n[a:b]\n[x:vars]\nk=v\n[web]\nvm1 a='unclosed\nvm2 a=b\\\n" });
    const file = join(dir, 'hosts.ini');
    expect(problemsOf(() => loadInventory(dir))).toEqual([
      { file, line: 1, key: 'bad group', message: "invalid section header '[bad group]'; expected [group], [group:vars] or [group:children] without spaces" },
      { file, line: 2, key: 'a:b', message: 'section [a:b] has an unknown type; expected [a], [a:vars] or [a:children]' },
      { file, line: 6, key: 'web.vm1', message: 'cannot parse host line: no closing quotation' },
      { file, line: 7, key: 'web.vm2', message: 'cannot parse host line: no character after a backslash' },
      { file, line: 3, key: 'x:vars', message: "section [x:vars] is for group 'x', which is not defined anywhere" },
    ]);
  });

  it("-e 'x' (no =), --limit matching nothing and a connection variable templated into a bad value name their key", async () => {
    expect(problemsOf(() => parseExtraVars(['common_packages={{ x }}'], tmpdir()))).toEqual([
      { file: '-e', key: 'x', message: "expected key=value, {json} or @file, got 'x'" },
      { file: '-e', key: '}}', message: "expected key=value, {json} or @file, got '}}'" },
    ]);
    const dir = tempInventory({ 'hosts.yml': 'all:\n  hosts:\n    vm1: { ansible_host: 192.0.2.1, p: abc, ansible_port: "{{ p }}" }\n' });
    const pb = tempInventory({ 'pb.yml': '- name: a\n  hosts: all\n  roles: [common]\n' });
    const plan = (limit?: string) => buildPlan({ inventory: loadInventory(dir), playbook: loadPlaybook(join(pb, 'pb.yml')), registry: new RoleRegistry(), limit });
    // was: { file: 'host vm1', key: 'ansible_port' }, without the line where it is set
    expect(await asyncProblemsOf(() => plan())).toEqual([{ file: join(dir, 'hosts.yml'), line: 3, key: 'all.hosts.vm1.ansible_port', message: 'expected a port 1..65535, got "abc"' }]);
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    vm1: { ansible_host: 192.0.2.1 }\n');
    expect(await asyncProblemsOf(() => plan('[0]x'))).toEqual([{ file: '--limit', key: '[0]x', message: `--limit [0]x matches no host of the inventory ${dir}` }]);
  });

  it("a role's offline check (validate) is placed where the fix goes: at the variable it starts with, else at the entry of the host it names", async () => {
    // was: { file: <inventory dir>, message } without line or key, for every role problem
    const dir = tempInventory({
      'hosts.yml': 'all:\n  children:\n    zookeeper:\n      hosts:\n        vm1: { ansible_host: 192.0.2.1, node_id: 1 }\n        vm2: { ansible_host: 192.0.2.2 }\n    redis:\n      hosts:\n        vm1:\n      vars:\n        redis_master_host: vm9\n',
      'pb.yml': '- name: a\n  hosts: all\n  roles: [java, zookeeper]\n- name: r\n  hosts: redis\n  roles: [redis]\n',
    });
    const file = join(dir, 'hosts.yml');
    const problems = await asyncProblemsOf(async () => buildPlan({ inventory: loadInventory(dir), playbook: loadPlaybook(join(dir, 'pb.yml')), registry: new RoleRegistry() }));
    expect(problems).toEqual([
      { file, line: 6, key: 'all.children.zookeeper.hosts.vm2', message: 'role zookeeper (host vm1): host vm2 has no ZooKeeper id: set node_id (or zookeeper_id) to a number 1-255 unique in group zookeeper' },
      { file, line: 11, key: 'all.children.redis.vars.redis_master_host', message: 'role redis (host vm1): redis_master_host: vm9 is not in group redis (vm1)' },
    ]);
  });

  it('a playbook reads YAML anchors, aliases and << merges as inventories do (YAML 1.1, as Ansible), and refuses an alias bomb', () => {
    // found by the property test's alias mutations: `roles: *r` was read as no list at all, `<<: *p` as an unknown
    // key, and a billion-laughs document planned, its aliases read as nothing
    const dir = tempInventory({
      'aliases.yml': '- name: a\n  hosts: all\n  roles: &r [common]\n- name: b\n  hosts: all\n  roles: *r\n',
      'merge.yml': '- &p\n  name: a\n  hosts: all\n  roles: [common]\n- <<: *p\n  name: b\n',
      'bomb.yml': `- name: a\n  hosts: all\n  roles: [common]\n  tags:\n${bomb('    - ')}`,
    });
    for (const f of ['aliases.yml', 'merge.yml']) {
      expect(loadPlaybook(join(dir, f)).phases.map((p) => [p.name, p.hosts, p.roles.map((r) => r.name)])).toEqual([['a', 'all', ['common']], ['b', 'all', ['common']]]);
    }
    expect(problemsOf(() => loadPlaybook(join(dir, 'bomb.yml')))).toEqual([{ file: join(dir, 'bomb.yml'), line: 6, message: 'YAML error: Excessive alias count indicates a resource exhaustion attack' }]);
  });

  it('an empty group or host name is named as "" in the key path', () => {
    const dir = tempInventory({ 'hosts.yml': '"":\n  hosts:\n    vm1:\nall:\n  children:\n    web:\n      hosts:\n        "":\n' });
    expect(problemsOf(() => loadInventory(dir))).toEqual([
      { file: join(dir, 'hosts.yml'), line: 1, key: '""', message: 'expected a group name matching ^[A-Za-z_][A-Za-z0-9_-]*$, got string ""' },
    ]);
    const d2 = tempInventory({ 'hosts.yml': 'all:\n  children:\n    web:\n      hosts:\n        "":\n' });
    expect(problemsOf(() => loadInventory(d2))).toEqual([{ file: join(d2, 'hosts.yml'), line: 5, key: 'all.children.web.hosts.""', message: 'empty host name' }]);
  });

  it('a variable named "" in a var file is named as "" too (seed 13: \'"": "{{ x }}"\' in host_vars/vm1.yml had key "")', async () => {
    const { dir, plan } = await planOf({ 'inv/hosts.yml': HOSTS3('web'), 'inv/host_vars/vm1.yml': '"": "{{ x }}"\n', 'pb.yml': '- name: a\n  hosts: all\n  roles: [common]\n' });
    expect(await asyncProblemsOf(plan)).toEqual([{ file: join(dir, 'inv/host_vars/vm1.yml'), line: 1, key: '""', message: '{{ x }} refers to an undefined variable' }]);
  });

  it('a YAML alias inside the node it names is refused with its key path', () => {
    expect(parseYaml('all:\n  children:\n    a: &a\n      hosts:\n        - *a\n', 'f').problems).toEqual([{ file: 'f', line: 5, key: 'all.children.a.hosts.0', message: 'YAML alias *a refers to a node that contains it' }]);
  });
});

describe('hand cases: alias bombs and huge files are refused within a bound', () => {
  const pb = '- name: a\n  hosts: all\n  roles: [common]\n';
  const inv = 'all:\n  hosts:\n    vm1: { ansible_host: 192.0.2.1 }\n';
  const EXCESSIVE = 'YAML error: Excessive alias count indicates a resource exhaustion attack';

  it('billion laughs in hosts.yml, group_vars, host_vars, -e @file and -e {...}: exit 4 at the first alias', () => {
    const dir = tempInventory({ 'hosts.yml': `${inv}  vars:\n    lol:\n${bomb('      - ')}` });
    expect(problemsOf(() => loadInventory(dir))).toEqual([{ file: join(dir, 'hosts.yml'), line: 7, message: EXCESSIVE }]);
    for (const f of ['group_vars/all.yml', 'host_vars/vm1.yml']) {
      const d = tempInventory({ 'hosts.yml': inv, [f]: `lol:\n${bomb('  - ')}` });
      expect(problemsOf(() => loadInventory(d))).toEqual([{ file: join(d, f), line: 3, message: EXCESSIVE }]);
    }
    const v = tempInventory({ 'v.yml': `lol:\n${bomb('  - ')}` });
    expect(problemsOf(() => parseExtraVars(['@v.yml'], v))).toEqual([{ file: join(v, 'v.yml'), line: 3, message: EXCESSIVE }]);
    const flow = `{lol: [${[...'abcdefghi'].map((n, i) => `&${n} [${Array(9).fill(i ? `*${'abcdefghi'[i - 1]}` : 'x').join(', ')}]`).join(', ')}]}`;
    expect(problemsOf(() => parseExtraVars([flow], v))).toEqual([{ file: '-e', line: 1, message: EXCESSIVE }]);
  });

  it(`files over ${MAX_INPUT_BYTES} bytes (inventory YAML or INI, var files, playbook, -e @file) are refused unread`, () => {
    const big = '#'.repeat(MAX_INPUT_BYTES) + '\n';
    const tooBig = (f: string) => ({ file: f, message: `file too big: ${big.length} bytes, more than the ${MAX_INPUT_BYTES} (2 MiB) orch reads (is this the right file?)` });
    for (const f of ['hosts.yml', 'hosts.ini']) {
      const d = tempInventory({ [f]: big });
      expect(problemsOf(() => loadInventory(d))).toEqual([tooBig(join(d, f))]);
    }
    const d = tempInventory({ 'hosts.yml': inv, 'group_vars/all.yml': big, 'host_vars/vm1/a.yml': big, 'pb.yml': big, 'v.yml': big });
    expect(problemsOf(() => loadInventory(d))).toEqual([tooBig(join(d, 'group_vars/all.yml')), tooBig(join(d, 'host_vars/vm1/a.yml'))]);
    expect(problemsOf(() => loadPlaybook(join(d, 'pb.yml')))).toEqual([tooBig(join(d, 'pb.yml'))]);
    expect(problemsOf(() => parseExtraVars(['@v.yml'], d))).toEqual([tooBig(join(d, 'v.yml'))]);
    // just under the cap is read: a 20000-host inventory is no typo
    writeFileSync(join(d, 'pb.yml'), pb + '#'.repeat(MAX_INPUT_BYTES - pb.length - 1) + '\n');
    expect(loadPlaybook(join(d, 'pb.yml')).phases).toHaveLength(1);
  });
});

const HOSTS3 = (group: string, extra: (i: number) => string = () => '') =>
  `all:\n  children:\n    ${group}:\n      hosts:\n${[1, 2, 3].map((i) => `        vm${i}: { ansible_host: 192.0.2.${i}, node_id: ${i}${extra(i)} }\n`).join('')}`;

/** buildPlan of `playbook` on the inventory written from `files` (relative to a temp dir holding `inv/` and pb.yml). */
async function planOf(files: Record<string, string>) {
  const dir = tempInventory(files);
  return { dir, plan: () => buildPlan({ inventory: loadInventory(join(dir, 'inv')), playbook: loadPlaybook(join(dir, 'pb.yml')), registry: new RoleRegistry() }) };
}

describe('hand cases: clusters', () => {
  it('duplicate node ids in a cluster: kafka-kraft (node_id, kafka_node_id) and zookeeper (node_id, zookeeper_id) name both hosts, at the entry of the first', async () => {
    for (const [role, group, dup] of [
      ['kafka-kraft', 'kafka', (i: number) => (i === 3 ? ', kafka_node_id: 1' : '')],
      ['zookeeper', 'zookeeper', (i: number) => (i === 3 ? ', zookeeper_id: 1' : '')],
    ] as const) {
      const { dir, plan } = await planOf({ 'inv/hosts.yml': HOSTS3(group, dup), 'pb.yml': `- name: a\n  hosts: all\n  roles: [java, ${role}]\n` });
      const problems = await asyncProblemsOf(plan);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ file: join(dir, 'inv/hosts.yml'), line: 5, key: `all.children.${group}.hosts.vm1` });
      expect(problems[0].message).toMatch(role === 'zookeeper' ? /hosts vm1 and vm3 have the same ZooKeeper id 1/ : /Kafka node id 1 is used by vm1 and vm3/);
    }
  });

  it('two hosts of one address and SSH port in a cluster are refused naming both, at the later ansible_host; another SSH port is another machine', async () => {
    for (const [role, group] of [['zookeeper', 'zookeeper'], ['etcd', 'etcd'], ['kafka-kraft', 'kafka']] as const) {
      const inv = HOSTS3(group).replace('192.0.2.3', '192.0.2.1');
      const { dir, plan } = await planOf({ 'inv/hosts.yml': inv, 'pb.yml': `- name: a\n  hosts: all\n  roles: [java, ${role}]\n` });
      const problems = await asyncProblemsOf(plan);
      expect(problems).toEqual([
        expect.objectContaining({ file: join(dir, 'inv/hosts.yml'), line: 7, key: `all.children.${group}.hosts.vm3.ansible_host` }),
      ]);
      expect(problems[0].message).toMatch(new RegExp(`^hosts vm1 and vm3 are one machine \\(192\\.0\\.2\\.1, SSH port 22\\) but members of one cluster: ${group}`));
      // the same address on another SSH port (a port-forwarded machine each) plans
      const other = await planOf({ 'inv/hosts.yml': inv.replace('vm3: { ansible_host: 192.0.2.1', 'vm3: { ansible_port: 2222, ansible_host: 192.0.2.1'), 'pb.yml': `- name: a\n  hosts: all\n  roles: [java, ${role}]\n` });
      await expect(other.plan()).resolves.toBeDefined();
    }
    // a role that is no cluster (common) may run on two names of one machine
    const { plan } = await planOf({ 'inv/hosts.yml': HOSTS3('web').replace('192.0.2.3', '192.0.2.1'), 'pb.yml': '- name: a\n  hosts: all\n  roles: [common]\n' });
    await expect(plan()).resolves.toBeDefined();
  });
});

describe('hand cases: host names', () => {
  const PATTERN_SYNTAX = ['vm 1', 'vm\t1', 'a!b', 'a&b', 'a:b', 'a,b', 'vm*', 'vm?', '~vm'];
  const NO_HOST_NAME = ['-x', '.x', 'a..b', 'a/b', 'h"q', 'é'];

  it('a host name with a space, ! & : , * ? or ~ (pattern syntax) or that is no host name is refused in YAML and INI, naming it', () => {
    for (const name of [...PATTERN_SYNTAX, ...NO_HOST_NAME]) {
      const dir = tempInventory({ 'hosts.yml': `all:\n  children:\n    web:\n      hosts:\n        ${JSON.stringify(name)}: { ansible_host: 192.0.2.1 }\n` });
      const [p, ...rest] = problemsOf(() => loadInventory(dir));
      expect(rest).toEqual([]);
      expect(p).toMatchObject({ file: join(dir, 'hosts.yml'), line: 5, key: `all.children.web.hosts.${name}` });
      expect(p.message).toMatch(PATTERN_SYNTAX.includes(name) ? new RegExp(`^invalid host name '.*': .* would be read as host pattern syntax`) : /^invalid host name '.*': a host name is letters, digits/);
    }
    for (const name of ['a!b', 'a&b', 'a,b', 'vm*', '~vm', '-x', 'h"q']) {
      const dir = tempInventory({ 'hosts.ini': `[web]\nvm1\n${name.replace('"', '\\"')} ansible_host=192.0.2.1\n` });
      expect(problemsOf(() => loadInventory(dir))).toEqual([expect.objectContaining({ file: join(dir, 'hosts.ini'), line: 3, key: name, message: expect.stringMatching(/^invalid host name/) })]);
    }
    // what stays valid: DNS names, aliases with _, addresses, ports and ranges
    const dir = tempInventory({ 'hosts.yml': 'all:\n  hosts:\n    web01.example.com:\n    vm_5:\n    192.0.2.7:\n    "2001:db8::1":\n    "db:2222":\n    "n[01:03]":\n' });
    expect([...loadInventory(dir).hosts.keys()]).toEqual(['web01.example.com', 'vm_5', '192.0.2.7', '2001:db8::1', 'db', 'n01', 'n02', 'n03']);
  });
});

describe('hand cases: playbooks and role variables', () => {
  it('an unknown top-level key in a playbook phase (Ansible play keys orch has no use for, typos) is refused at its line', () => {
    const dir = tempInventory({ 'pb.yml': '- name: a\n  hosts: all\n  roles: [common]\n  become: true\n- name: b\n  hosts: all\n  rolez: [common]\n  roles: [java]\n  tasks: []\n' });
    const PHASE_KEYS = 'unknown phase key (expected one of name, hosts, roles, serial, max_fail_percentage, tags)';
    expect(problemsOf(() => loadPlaybook(join(dir, 'pb.yml')))).toEqual([
      { file: join(dir, 'pb.yml'), line: 4, key: '[0].become', message: PHASE_KEYS },
      { file: join(dir, 'pb.yml'), line: 7, key: '[1].rolez', message: PHASE_KEYS },
      { file: join(dir, 'pb.yml'), line: 9, key: '[1].tasks', message: PHASE_KEYS },
    ]);
  });

  it('a wrong type for any variable of any role in roles/ is refused (exit 4) naming the variable, its file and line', async () => {
    const registry = new RoleRegistry();
    const ajv = new Ajv({ strict: false });
    const CANDIDATES: unknown[] = [{ wrong: [1] }, ['wrong'], 'wrong-type-string', 123456789, true];
    const checked: string[] = [];
    const anything: string[] = [];
    for (const name of registry.names()) {
      const def = await registry.load(name);
      const wrong: Record<string, unknown> = {};
      for (const [k, spec] of Object.entries(def.vars)) {
        const accepts = ajv.compile(spec.schema);
        const bad = CANDIDATES.find((c) => !accepts(c));
        if (bad === undefined) anything.push(`${name}.${k}`);
        else wrong[k] = bad;
      }
      const group = name.replace(/-/g, '_');
      const { dir, plan } = await planOf({
        'inv/hosts.yml': HOSTS3(group),
        'inv/group_vars/all.yml': Object.entries(wrong).map(([k, val]) => `${k}: ${JSON.stringify(val)}\n`).join(''),
        'pb.yml': `- name: a\n  hosts: all\n  roles: [${[...(def.dependsOn ?? []), name].join(', ')}]\n`,
      });
      const problems = await asyncProblemsOf(plan);
      const file = join(dir, 'inv/group_vars/all.yml');
      Object.keys(wrong).forEach((k, i) => {
        const p = problems.find((x) => x.key === k && x.message.includes(`is not valid for role ${name}`));
        expect(p, `${name}: ${k} = ${JSON.stringify(wrong[k])} was not refused`).toMatchObject({ file, line: i + 1 });
        checked.push(`${name}.${k}`);
      });
    }
    tally.wrongTypes += checked.length;
    console.log(`wrong types: ${checked.length} variables of ${registry.names().length} roles refused; free-form (any value is valid): ${anything.join(', ') || 'none'}`);
    expect(anything).toEqual([]);
    expect(checked.length).toBeGreaterThan(100);
  }, 60_000);
});

/** Billion laughs: nine levels of nine aliases each (9^9 = 387 million strings), as lines starting with `lead`. */
function bomb(lead: string): string {
  const names = 'abcdefghi';
  return [...names]
    .map((n, i) => `${lead}&${n} [${i === 0 ? Array(9).fill('"lol"').join(', ') : Array(9).fill(`*${names[i - 1]}`).join(', ')}]\n`)
    .join('');
}
