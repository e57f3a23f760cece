/**
 * Role variable specs: one table gives the JSON Schema (for ajv), the default, the description shown by
 * `orch roles show`, and the TypeScript type the role's code sees.
 */

/** A JSON Schema fragment (draft-07 subset used by ajv). */
export type JsonSchema = Record<string, unknown>;

export interface VarSpec<T> {
  schema: JsonSchema;
  /** undefined: required (no default) */
  default?: T;
  doc: string;
  /** never printed: plan, diff, logs, JSON events show `***` */
  secret?: boolean;
  /**
   * a secret whose empty value means "not set here" (the run does not refuse it): e.g. a password the role makes once
   * as a secret cluster value when the inventory gives none. Other placeholders are still refused.
   */
  emptyAllowed?: boolean;
  /** phantom: carries T for inference */
  readonly __type?: T;
}

export type VarTable = Record<string, VarSpec<unknown>>;

/** The typed variables a role's code receives. */
export type VarsOf<Table extends VarTable> = { [K in keyof Table]: Table[K] extends VarSpec<infer T> ? T : never };

type Common<T> = { default?: T; doc: string; secret?: boolean; emptyAllowed?: boolean };

/** Builders: `v.str({ default: '1g', pattern: '^[0-9]+[mg]$', doc: 'heap' })`. */
export const v = {
  str(o: Common<string> & { pattern?: string; enum?: readonly string[]; minLength?: number }): VarSpec<string> {
    const schema: JsonSchema = { type: 'string' };
    if (o.pattern) schema.pattern = o.pattern;
    if (o.enum) schema.enum = [...o.enum];
    if (o.minLength !== undefined) schema.minLength = o.minLength;
    return { schema, default: o.default, doc: o.doc, secret: o.secret, ...(o.emptyAllowed ? { emptyAllowed: true } : {}) };
  },
  oneOf<const E extends readonly string[]>(values: E, o: Common<E[number]>): VarSpec<E[number]> {
    return { schema: { type: 'string', enum: [...values] }, default: o.default, doc: o.doc, secret: o.secret };
  },
  int(o: Common<number> & { minimum?: number; maximum?: number }): VarSpec<number> {
    const schema: JsonSchema = { type: 'integer' };
    if (o.minimum !== undefined) schema.minimum = o.minimum;
    if (o.maximum !== undefined) schema.maximum = o.maximum;
    return { schema, default: o.default, doc: o.doc, secret: o.secret };
  },
  port(o: Common<number>): VarSpec<number> {
    return { schema: { type: 'integer', minimum: 1, maximum: 65535 }, default: o.default, doc: o.doc };
  },
  bool(o: Common<boolean>): VarSpec<boolean> {
    return { schema: { type: 'boolean' }, default: o.default, doc: o.doc };
  },
  /** a list; `items` is the JSON Schema of one element, T its TypeScript type */
  list<T>(items: JsonSchema, o: Common<T[]>): VarSpec<T[]> {
    return { schema: { type: 'array', items }, default: o.default, doc: o.doc, secret: o.secret };
  },
  /** a string-keyed map; `values` is the JSON Schema of one value */
  map<T>(values: JsonSchema, o: Common<Record<string, T>>): VarSpec<Record<string, T>> {
    return { schema: { type: 'object', additionalProperties: values }, default: o.default, doc: o.doc, secret: o.secret };
  },
  /** any JSON Schema, typed by the caller */
  schema<T>(schema: JsonSchema, o: Common<T>): VarSpec<T> {
    return { schema, default: o.default, doc: o.doc, secret: o.secret };
  },
};
