import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ROUTES_SCHEMA_FILE } from '../../src/cli/schema.ts';

export const ROUTES_SCHEMA = JSON.parse(readFileSync(ROUTES_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

let ajv: Ajv2020 | undefined;

/**
 * The schema's validator for the whole plan, or for one of its parts by JSON pointer
 * (`#/$defs/route`, `#/properties/protect`). Strict, so a typo in the schema's own keywords
 * fails here instead of being ignored by editors.
 */
function routesSchemaValidator(pointer = ''): ValidateFunction {
  // Union types ('string or number') and `required` inside anyOf are intended in this schema.
  ajv ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, strictRequired: false }).addSchema(ROUTES_SCHEMA, 'routes');
  const validate = ajv.getSchema(`routes${pointer}`);
  if (!validate) throw new Error(`routes.schema.json has nothing at '${pointer}'`);
  return validate;
}

/** What the schema says against a value, one line per error (empty: valid). */
export function schemaErrors(value: unknown, pointer = ''): string[] {
  const validate = routesSchemaValidator(pointer);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/**
 * For test gateways: a plan the gateway accepted must satisfy the schema too, or an editor
 * would underline a valid file. Throws with the schema's complaints.
 */
export function assertSchemaAccepts(routesText: string, where: string): void {
  const errors = schemaErrors(parse(routesText));
  if (errors.length > 0) {
    throw new Error(
      `gateway/schema/routes.schema.json rejects a plan the gateway accepts (${where}); update the schema:\n${errors.join('\n')}\n---\n${routesText}`,
    );
  }
}
