/**
 * fast-check generators of broken orch input: inventories (hosts.yml in YAML, hosts.ini in INI), group_vars/ and
 * host_vars/ files, playbooks and `-e` values. Each case starts from a project that plans (hosts in the groups of
 * real roles, a playbook of those roles) and breaks some of it: structure (a list where a mapping belongs, unknown
 * sections, cycles), names (hosts and groups with spaces, pattern characters, huge ranges), values (wrong types
 * for connection and role variables, templates to nowhere, shell metacharacters) and text (a character inserted,
 * a line duplicated or cut, tabs, anchors and aliases, a second document). Shrinking then brings a failing case
 * down to the smallest breakage.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { BadCase } from './run-case.js';

type Vars = Record<string, unknown>;

/** The roles the generated playbooks use: ones whose defaults plan on hosts with an address and a node_id. */
export const ROLE_GROUPS: Record<string, string> = {
  zookeeper: 'zookeeper',
  'kafka-kraft': 'kafka',
  etcd: 'etcd',
  redis: 'redis',
  keepalived: 'keepalived',
};

const GOOD_HOSTS = ['vm1', 'vm2', 'vm3', 'vm4', 'kafka01', 'db-a', 'n1.example.com', 'vm_5'];
/** names that are no valid host name, collide with pattern syntax, or expand to a range */
const BAD_HOSTS = [
  'vm 1', 'a!b', 'a&b', 'a:b', 'a,b', '', ' ', '---', 'all', 'ungrouped', 'vm[1:3]', 'vm[3:1]', 'vm[a:9]', 'vm[01:3]', 'vm[1:]',
  'vm[0:999999999]', 'x[0:99999][0:99999]', 'h:99999', 'h:0', 'h:', '[::1]:22', '[2001:db8::1]', 'vm*', '~vm', 'vm[', 'vm]', 'é-host', 'a\tb',
  'null', '123', '-x', '@x', 'h"q', "h'q", 'h#c', 'h;c', 'h=v', 'h\\', 'h/../x', '{{ h }}',
];
const GOOD_GROUPS = ['zookeeper', 'kafka', 'etcd', 'redis', 'keepalived', 'control_plane', 'data_plane'];
const BAD_GROUPS = ['bad group', '1st', 'a-b', 'a:b', 'all', 'ungrouped', '', 'a!b', 'a&b', 'a,b', 'vars', 'hosts', 'children', 'x.y', 'grp]'];

const CONNECTION_VARS = [
  'ansible_host', 'ansible_port', 'ansible_user', 'ansible_become', 'ansible_become_user', 'ansible_become_password', 'ansible_password',
  'ansible_ssh_private_key_file', 'ansible_ssh_common_args', 'ansible_ssh_extra_args', 'ansible_timeout', 'jump', 'orch_known_hosts',
  'ansible_group_priority', 'port', 'host', 'user', 'become',
];
const OTHER_VARS = ['node_id', 'zookeeper_id', 'kafka_node_id', 'host_memory_gb', 'host_vcpus', 'orch_service_group', 'foo', 'kafka_heapp', 'inventory_hostname', 'group_names', 'bad key', ''];

const NASTY_STRINGS = [
  '', ' ', 'yes', 'no', 'null', '~', '0755', '1e3', '-1', '99999', 'abc', '1g', '512m', '/data', 'relative/path', '192.0.2.7', '::1',
  '{{ x }}', '{{ undefined_var }}', '{{ node_id }}', '{{ ansible_host }}', "{{ lookup('env', 'ORCH_FUZZ_SET') }}", "{{ lookup('env', 'ORCH_FUZZ_UNSET') }}",
  '{{ a | upper }}', '{{', '}}', '{{}}', '{{ {{ }} }}', '${HOME}', "'; rm -rf /", '$(id)', '`id`', 'a\nb', 'tab\there', '\u0000', 'ü', '🦀',
  'x'.repeat(300), '-J jump.example:22', '-o ProxyJump=a,b', 'root@192.0.2.9:2222', 'CHANGE_ME', 'changeme', '*',
];

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 70_000 }) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constant(2 ** 53 + 1)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('host', 'port', 'user', 'private_key_file', 'a', 'ETCD_X', 'bad key', 'memory', 'cpu'), scalar, { maxKeys: 3 }) },
);

/** Good values, so that some cases with variables plan: connection variables as they should be. */
const GOOD_CONNECTION: Array<[string, unknown]> = [
  ['ansible_port', 22], ['ansible_port', '2222'], ['ansible_user', 'deploy'], ['ansible_become', true], ['ansible_become', 'yes'], ['jump', 'root@192.0.2.9:2222'],
  ['ansible_ssh_common_args', '-o StrictHostKeyChecking=yes'], ['ansible_timeout', 5], ['ansible_group_priority', 3], ['foo', "{{ lookup('env', 'ORCH_FUZZ_SET') }}"],
];

/**
 * Variables a project may set anywhere: connection variables, the roles' own (`roleVars`: name -> default, so that
 * a variable may also be set to a value that is right), others; any of them to a wrong value.
 */
function varsArb(roleVars: Record<string, unknown>): fc.Arbitrary<Vars> {
  const names = Object.keys(roleVars);
  const defaults = Object.entries(roleVars).filter(([, d]) => d !== undefined);
  const pair = fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...CONNECTION_VARS), value) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...names), value) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...OTHER_VARS), value) },
    { weight: 2, arbitrary: fc.constantFrom(...GOOD_CONNECTION) },
    { weight: 3, arbitrary: fc.constantFrom(...defaults) },
  );
  return fc.array(pair, { maxLength: 3 }).map((pairs) => Object.fromEntries(pairs) as Vars);
}

interface HostModel {
  name: string;
  vars: Vars | null;
}
interface GroupModel {
  name: string;
  hosts: HostModel[];
  children: string[];
  vars: Vars | null;
  /** a section replaced by something that is no mapping, or an unknown section */
  odd?: { section: string; value: unknown };
}
interface InventoryModel {
  allVars: Vars | null;
  groups: GroupModel[];
}

export interface ProjectModel {
  inventory: InventoryModel;
  format: 'yaml' | 'ini';
  groupVars: Array<{ name: string; asDir: boolean; ext: string; body: unknown }>;
  hostVars: Array<{ name: string; asDir: boolean; ext: string; body: unknown }>;
  phases: unknown[];
  extraVars: string[];
  extraVarsFile?: unknown;
  limit?: string;
  /** text-level breakage: [file kind, mutation] */
  mutations: Array<{ target: 'inventory' | 'vars' | 'playbook' | 'extra'; mutation: TextMutation }>;
}

type TextMutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'dup-line'; at: number }
  | { kind: 'swap-lines'; a: number; b: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'indent-tab'; at: number }
  | { kind: 'prepend' | 'append'; text: string };

const INSERTS = [':', ': ', '[', ']', '{', '}', '"', "'", '\t', '\n', '&a ', '*a', '*nope', '!', '!!int ', '!vault ', '!unsafe ', '%', '@', '`', '|', '>', '- ', '#', '\\', '\u0000', '\uFEFF', ',', '=', '?', '<<: *a\n', '  ', '{{', '\r'];
const APPENDS = [
  '\n---\nsecond: document\n', '\n...\n', '\nall: {}\n', '\n[extra]\nh1\n', '\n[x:children]\nnope\n', '\n[x:vars]\nk=v\n', '\n[bad section]\n', '\n[g:weird]\n',
  '\nanchor: &a { k: v }\nuse: *a\n', '\n- item\n', '\nplugin: aws_ec2\n', '\n  dangling: indent\n',
];
const PREPENDS = ['%YAML 1.2\n---\n', '---\n', '# comment\n', '\uFEFF', '[all:vars]\n', '- \n', 'key: &a [*a]\n', '"unclosed\n', '\t'];

const mutationArb: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: 4000 }), text: fc.constantFrom(...INSERTS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat({ max: 4000 }), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('dup-line' as const), at: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('swap-lines' as const), a: fc.nat({ max: 60 }), b: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: 4000 }) }),
  fc.record({ kind: fc.constant('indent-tab' as const), at: fc.nat({ max: 60 }) }),
  fc.record({ kind: fc.constant('append' as const), text: fc.constantFrom(...APPENDS) }),
  fc.record({ kind: fc.constant('prepend' as const), text: fc.constantFrom(...PREPENDS) }),
);

export function applyMutation(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const at = (n: number) => (text.length ? n % (text.length + 1) : 0);
  const li = (n: number) => n % Math.max(1, lines.length);
  switch (m.kind) {
    case 'insert':
      return text.slice(0, at(m.at)) + m.text + text.slice(at(m.at));
    case 'delete':
      return text.slice(0, at(m.at)) + text.slice(at(m.at) + m.length);
    case 'dup-line':
      lines.splice(li(m.at), 0, lines[li(m.at)]);
      return lines.join('\n');
    case 'swap-lines': {
      const [a, b] = [li(m.a), li(m.b)];
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'indent-tab': {
      const i = li(m.at);
      lines[i] = lines[i].replace(/^ {2}/, '\t');
      return lines.join('\n');
    }
    case 'prepend':
      return m.text + text;
    case 'append':
      return text + m.text;
  }
}

/** Knobs: how likely each part is broken (0..1), so that each property can aim at one part. */
export interface Focus {
  format?: 'yaml' | 'ini';
  inventory: number;
  vars: number;
  playbook: number;
  extra: number;
  text: number;
}

const maybe = <T>(p: number, arb: fc.Arbitrary<T>, otherwise: T): fc.Arbitrary<T> =>
  p <= 0 ? fc.constant(otherwise) : p >= 1 ? arb : fc.oneof({ weight: Math.round(p * 100), arbitrary: arb }, { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(otherwise) });

export function projectArb(roleVars: Record<string, unknown>, focus: Focus): fc.Arbitrary<ProjectModel> {
  const roleVarNames = Object.keys(roleVars);
  const vars = varsArb(roleVars);
  const hostName = maybe<string | undefined>(focus.inventory * 0.12, fc.constantFrom(...BAD_HOSTS), undefined);
  const host = (i: number): fc.Arbitrary<HostModel> =>
    fc.record({ bad: hostName, extra: maybe(focus.inventory * 0.35, vars, {}), nullVars: fc.boolean() }).map(({ bad, extra, nullVars }) => {
      const name = bad ?? GOOD_HOSTS[i % GOOD_HOSTS.length];
      const base: Vars = { ansible_host: `192.0.2.${i + 1}`, node_id: i + 1 };
      const v = { ...base, ...extra };
      return { name, vars: nullVars && !Object.keys(extra).length ? (i % 2 ? null : base) : v };
    });
  const group = fc
    .record({
      name: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...GOOD_GROUPS) }, { weight: Math.round(focus.inventory * 1), arbitrary: fc.constantFrom(...BAD_GROUPS) }),
      hostIdx: fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 0, maxLength: 4 }),
      children: maybe(focus.inventory * 0.2, fc.array(fc.constantFrom(...GOOD_GROUPS, 'all', 'nowhere'), { maxLength: 2 }), []),
      vars: maybe(focus.inventory * 0.3, vars, null),
      odd: maybe(
        focus.inventory * 0.12,
        fc.record({ section: fc.constantFrom('hosts', 'children', 'vars', 'host', 'var', 'hostvars'), value: fc.oneof(value, fc.constant(['vm1', 'vm2'])) }),
        undefined,
      ),
    })
    .chain((g) => fc.tuple(...g.hostIdx.map((i) => host(i))).map((hosts) => ({ name: g.name, hosts, children: g.children, vars: g.vars, odd: g.odd }) as GroupModel));
  const groups = fc.array(group, { minLength: 1, maxLength: 5 });
  const varFile = fc.record({
    name: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('all', ...GOOD_GROUPS, ...GOOD_HOSTS.slice(0, 4)) }, { weight: 1, arbitrary: fc.constantFrom('vm 1', 'a&b', 'nothing-here') }),
    asDir: fc.boolean(),
    ext: fc.constantFrom('.yml', '.yaml', '.json', '', '.txt'),
    body: fc.oneof({ weight: 6, arbitrary: vars }, { weight: 1, arbitrary: value }, { weight: 1, arbitrary: fc.constant([{ a: 1 }]) }),
  });
  const roleNames = Object.keys(ROLE_GROUPS);
  const goodPhases = fc.subarray(roleNames).map((rs) => [
    { name: 'prep', hosts: 'all', roles: ['common', 'java'] },
    ...rs.map((r) => ({ name: r, hosts: ROLE_GROUPS[r], roles: [r] })),
  ]);
  const PATTERNS = ['all', 'zookeeper', 'kafka:&etcd', 'etcd:!vm1', 'vm[0]', 'kafka[1:2]', 'kafka[-1]', '~vm[0-9]+', '~(', '~[', 'a,b', '', ' ', '&', '!', ':', '*', 'vm*', 'no-such', 'all:&', 'kafka[5:1]', '[0]'];
  const badPhase = fc.record(
    {
      name: fc.oneof(fc.constantFrom('prep', 'x', 'zookeeper'), scalar),
      hosts: fc.oneof(fc.constantFrom(...PATTERNS), scalar),
      roles: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom(...roleNames, 'common', 'java', 'nope', 'kafka_kraft'), fc.record({ role: fc.oneof(fc.constantFrom(...roleNames), scalar), tags: fc.oneof(scalar, fc.array(scalar)) }, { requiredKeys: [] }), scalar), { maxLength: 3 }),
        scalar,
      ),
      serial: fc.oneof(fc.constantFrom(1, 2, '30%', '0%', '150%', 0, -1, 'all', 1.5), scalar),
      max_fail_percentage: fc.oneof(fc.constantFrom(0, 50, 100, 101, -1), scalar),
      tags: fc.oneof(scalar, fc.array(scalar, { maxLength: 2 })),
      hostss: scalar,
      gather_facts: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  const phases = goodPhases.chain((good) =>
    maybe(
      focus.playbook,
      fc.oneof(
        { weight: 5, arbitrary: fc.tuple(fc.nat({ max: good.length }), badPhase).map(([i, p]) => [...good.slice(0, i), p, ...good.slice(i)]) },
        { weight: 2, arbitrary: fc.tuple(fc.nat({ max: good.length - 1 }), fc.constantFrom('hosts', 'roles', 'name', 'serial', 'become', 'tasks')).map(([i, k]) => good.map((p, j) => (j === i ? { ...p, [k]: k === 'roles' ? ['nope'] : k === 'name' ? good[0].name : 'x' } : p))) },
        { weight: 1, arbitrary: fc.constantFrom<unknown[]>([], [null], ['x'], [[{ name: 'a' }]], [{}], [{ name: 'a', hosts: 'all', roles: [] }]) },
        { weight: 1, arbitrary: fc.constant(good.slice().reverse()) },
      ),
      good as unknown[],
    ),
  );
  const extraArg = fc.oneof(
    fc.constantFrom(
      'a=1', 'a="two words" b=3', "a='unclosed", 'a="unclosed', 'noequals', '=v', 'k=', '  ', '', '{"a": 1}', '{"a": ', '[1, 2]', '{}', '{a: b}', 'null', '@vars.yml',
      '@missing.yml', '@', 'k={"x": [1, 2]}', 'k=[1,', 'a=1\\', "a=$(id) b='; rm -rf /'", '{"node_id": "one"}', '{"ansible_port": 0}', 'ansible_port=abc', '{"jump": [{"host": 1}]}',
    ),
    fc.tuple(fc.constantFrom(...roleVarNames, ...CONNECTION_VARS, ...OTHER_VARS), value).map(([k, v]) => JSON.stringify({ [k]: v })),
    fc.tuple(fc.constantFrom(...roleVarNames, ...CONNECTION_VARS), fc.constantFrom(...NASTY_STRINGS)).map(([k, v]) => `${k}=${v}`),
  );
  return fc.record({
    inventory: fc.record({ allVars: maybe(focus.inventory * 0.3, vars, { ansible_user: 'root' } as Vars | null), groups }),
    format: focus.format ? fc.constant(focus.format) : fc.constantFrom('yaml' as const, 'ini' as const),
    groupVars: maybe(focus.vars, fc.array(varFile, { maxLength: 3 }), []),
    hostVars: maybe(focus.vars, fc.array(varFile, { maxLength: 2 }), []),
    phases,
    extraVars: maybe(focus.extra, fc.array(extraArg, { minLength: 1, maxLength: 3 }), []),
    extraVarsFile: maybe(focus.extra, fc.oneof(vars, value), undefined),
    limit: maybe(focus.playbook * 0.3, fc.constantFrom(...PATTERNS), undefined),
    mutations: maybe(
      focus.text,
      fc.array(fc.record({ target: fc.constantFrom('inventory' as const, 'vars' as const, 'playbook' as const, 'extra' as const), mutation: mutationArb }), { minLength: 1, maxLength: 3 }),
      [],
    ),
  });
}

// ---- rendering a model into files ----

function yamlOf(v: unknown): string {
  return stringify(v, { version: '1.1' });
}

function inventoryYaml(inv: InventoryModel): string {
  const children: Record<string, unknown> = {};
  for (const g of inv.groups) {
    const body: Record<string, unknown> = {};
    if (g.hosts.length) body.hosts = Object.fromEntries(g.hosts.map((h) => [h.name, h.vars]));
    if (g.children.length) body.children = Object.fromEntries(g.children.map((c) => [c, null]));
    if (g.vars) body.vars = g.vars;
    if (g.odd) body[g.odd.section] = g.odd.value;
    const prev = children[g.name] as Record<string, unknown> | undefined;
    children[g.name] = prev ? { ...prev, ...body } : Object.keys(body).length ? body : null;
  }
  return yamlOf({ all: { ...(inv.allVars ? { vars: inv.allVars } : {}), children } });
}

/** An INI value as one word: JSON for lists, maps and strings with spaces or quotes (a Python literal too). */
function iniValue(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return /^[^\s"'#\\]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'object') return `'${JSON.stringify(v)}'`;
  return String(v);
}

function inventoryIni(inv: InventoryModel): string {
  const out: string[] = [];
  if (inv.allVars) out.push('[all:vars]', ...Object.entries(inv.allVars).map(([k, v]) => `${k}=${iniValue(v)}`), '');
  for (const g of inv.groups) {
    out.push(`[${g.name}]`);
    for (const h of g.hosts) out.push([h.name, ...Object.entries(h.vars ?? {}).map(([k, v]) => `${k}=${iniValue(v)}`)].join(' '));
    if (g.odd) out.push(`${g.odd.section}=${iniValue(g.odd.value)}`);
    if (g.vars) out.push(`[${g.name}:vars]`, ...Object.entries(g.vars).map(([k, v]) => `${k}=${iniValue(v)}`));
    if (g.children.length) out.push(`[${g.name}:children]`, ...g.children);
    out.push('');
  }
  return out.join('\n');
}

export function renderCase(m: ProjectModel): BadCase {
  const files: Record<string, string> = {};
  const invFile = m.format === 'yaml' ? 'inv/hosts.yml' : 'inv/hosts.ini';
  files[invFile] = m.format === 'yaml' ? inventoryYaml(m.inventory) : inventoryIni(m.inventory);
  const varFiles: string[] = [];
  for (const [dir, list] of [['group_vars', m.groupVars], ['host_vars', m.hostVars]] as const) {
    for (const f of list) {
      const path = f.asDir ? `inv/${dir}/${f.name}/main${f.ext || '.yml'}` : `inv/${dir}/${f.name}${f.ext}`;
      // one path cannot be a file and a directory at once
      if (Object.keys(files).some((p) => p === path || p.startsWith(`${path}/`) || path.startsWith(`${p}/`))) continue;
      files[path] = f.ext === '.json' ? JSON.stringify(f.body) ?? '' : yamlOf(f.body);
      varFiles.push(path);
    }
  }
  files['pb.yml'] = yamlOf(m.phases);
  if (m.extraVarsFile !== undefined) files['vars.yml'] = yamlOf(m.extraVarsFile);
  const extraVars = [...m.extraVars];
  for (const { target, mutation } of m.mutations) {
    if (target === 'extra' && extraVars.length) extraVars[0] = applyMutation(extraVars[0], mutation);
    else {
      const path = target === 'inventory' ? invFile : target === 'playbook' ? 'pb.yml' : target === 'vars' && varFiles.length ? varFiles[0] : target === 'vars' && files['vars.yml'] ? 'vars.yml' : invFile;
      files[path] = applyMutation(files[path], mutation);
    }
  }
  return { files, inventory: 'inv', playbook: 'pb.yml', extraVars, limit: m.limit };
}
