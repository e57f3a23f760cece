/**
 * JSON Schemas (checked with ajv) for what orch reads as inventory: the YAML inventory structure, the
 * connection variables orch understands (wherever variables are set), var files and the sim overlay.
 * Every ajv error becomes an InputProblem with file, line, key path and what was expected.
 */
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { InputProblem } from '../core/errors.js';
import type { KeyPath } from './yaml-file.js';

export const GROUP_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';

type Schema = Record<string, unknown>;

/** A value that is a Jinja template cannot be type-checked before it is rendered. */
const template: Schema = { type: 'string', pattern: '\\{\\{' };
const port: Schema = { expected: 'an integer port 1..65535', anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, template] };
const bool: Schema = { expected: 'a boolean (true/false, yes/no)', anyOf: [{ type: 'boolean' }, template] };
const seconds: Schema = { expected: 'a number of seconds > 0', anyOf: [{ type: 'number', exclusiveMinimum: 0 }, template] };
const str: Schema = { type: 'string', minLength: 1, expected: 'a non-empty string' };
const secret: Schema = { type: ['string', 'number'], expected: 'a string' };
const jumpHop: Schema = {
  expected: "'user@host:port' or a mapping {host, port, user, private_key_file}",
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['host'],
      additionalProperties: false,
      properties: { host: str, port, user: str, private_key_file: str },
    },
  ],
};

/** Variables orch interprets itself (see ./connection.ts); any other variable is free-form. */
export const VARS_SCHEMA: Schema = {
  type: 'object',
  expected: 'a mapping of variables',
  properties: {
    ansible_host: str,
    ansible_ssh_host: str,
    host: str,
    ansible_port: port,
    ansible_ssh_port: port,
    port,
    ansible_user: str,
    ansible_ssh_user: str,
    user: str,
    ansible_ssh_private_key_file: str,
    ansible_private_key_file: str,
    private_key_file: str,
    ansible_password: secret,
    ansible_ssh_pass: secret,
    ansible_become: bool,
    become: bool,
    ansible_become_user: str,
    ansible_become_password: secret,
    ansible_become_pass: secret,
    ansible_ssh_common_args: { type: 'string', expected: 'a string of ssh options' },
    ansible_ssh_extra_args: { type: 'string', expected: 'a string of ssh options' },
    ansible_ssh_timeout: seconds,
    ansible_timeout: seconds,
    connect_timeout: seconds,
    orch_known_hosts: str,
    jump: { expected: 'a jump host or a list of them', anyOf: [jumpHop, { type: 'array', items: jumpHop }] },
    ansible_group_priority: { type: 'integer', expected: 'an integer' },
  },
};

const nullableVars: Schema = { anyOf: [{ type: 'null' }, { $ref: '#/$defs/vars' }], expected: 'a mapping of variables (or nothing)' };

/** Ansible's YAML inventory: `{ <group>: { hosts: {h: vars|null}, children: {g: group|null}, vars: {...} } }`. */
export const INVENTORY_SCHEMA: Schema = {
  $defs: {
    vars: VARS_SCHEMA,
    groups: {
      type: 'object',
      expected: 'a mapping of group names',
      propertyNames: { pattern: GROUP_NAME_PATTERN, expected: `a group name matching ${GROUP_NAME_PATTERN}` },
      additionalProperties: { $ref: '#/$defs/group' },
    },
    group: {
      expected: 'a group: a mapping with hosts, children and/or vars (or nothing)',
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        hosts: {
          expected: 'a mapping of host names to their variables (or nothing)',
          type: ['object', 'null', 'string'],
          additionalProperties: nullableVars,
        },
        children: {
          expected: 'a mapping of child group names to groups (or nothing)',
          type: ['object', 'null', 'string'],
          propertyNames: { pattern: GROUP_NAME_PATTERN, expected: `a group name matching ${GROUP_NAME_PATTERN}` },
          additionalProperties: { $ref: '#/$defs/group' },
        },
        vars: nullableVars,
      },
    },
  },
  $ref: '#/$defs/groups',
};

/** The simulator's overlay: `{ hosts: { <host>: { <var>: value } } }`. */
export const OVERLAY_SCHEMA: Schema = {
  $defs: { vars: VARS_SCHEMA },
  type: 'object',
  expected: 'a mapping with a `hosts` key',
  required: ['hosts'],
  additionalProperties: false,
  properties: {
    hosts: { type: 'object', expected: 'a mapping of host names to variables', additionalProperties: nullableVars },
  },
};

const Ajv = AjvModule.default ?? AjvModule;
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });

const compiled = new Map<Schema, ValidateFunction>();
function validator(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Where a key path inside the validated value lives: the file's line, and the dotted key shown. */
export type Locate = (path: KeyPath) => { line?: number; key: string };

/** Validates `data` against `schema`; one problem per offending key, all of them. */
export function check(schema: Schema, data: unknown, file: string, locate: Locate): InputProblem[] {
  const validate = validator(schema);
  if (validate(data)) return [];
  const best = new Map<string, ErrorObject>();
  for (const err of validate.errors ?? []) {
    if (err.keyword === 'propertyNames') continue; // reported by the inner error, which names the key
    const id = `${errorPath(err).join('\u0000')}|${err.keyword === 'additionalProperties' || err.keyword === 'required' ? err.keyword : ''}`;
    const prev = best.get(id);
    if (!prev || rank(err) < rank(prev)) best.set(id, err);
  }
  // an anyOf that failed because of something deeper (a bad key inside a mapping) is reported by that
  const errors = [...best.values()];
  const paths = errors.map((e) => errorPath(e).join('\u0000'));
  const kept = errors.filter((e, i) => e.keyword !== 'anyOf' || !paths.some((p, j) => j !== i && p.startsWith(`${paths[i]}\u0000`)));
  return kept
    .map((err) => {
      const where = locate(errorPath(err));
      return { file, line: where.line, key: where.key || undefined, message: explain(err) };
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** Joins a key path for messages: `all.children.kafka.vars.heap`, list items by index (`jump.1.port`), an empty key as `""`. */
export function joinKey(path: KeyPath): string {
  return path.map((s) => (s === '' ? '""' : String(s))).join('.');
}

function errorPath(err: ErrorObject): KeyPath {
  const path: KeyPath = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const propertyName = (err as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) path.push(propertyName);
  if (err.keyword === 'additionalProperties') path.push(String(err.params.additionalProperty));
  return path;
}

/** Prefer errors whose schema says what it expects, then the outermost one (anyOf over its branches). */
function rank(err: ErrorObject): number {
  const hasExpected = typeof (err.parentSchema as Schema | undefined)?.expected === 'string';
  return (hasExpected ? 0 : 10_000) + err.schemaPath.length;
}

function explain(err: ErrorObject): string {
  const parent = err.parentSchema as Schema | undefined;
  if (err.keyword === 'additionalProperties') {
    const allowed = Object.keys((parent?.properties as Schema | undefined) ?? {});
    return allowed.length ? `unexpected key; expected one of: ${allowed.join(', ')}` : 'unexpected key';
  }
  if (err.keyword === 'required') return `missing key '${String(err.params.missingProperty)}'`;
  const expected = typeof parent?.expected === 'string' ? parent.expected : err.message ?? 'a valid value';
  return `expected ${expected}, got ${describeValue(err.data)}`;
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}
