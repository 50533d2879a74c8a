import { METHODS } from '../core/httpMethods.ts';
import type { YamlReader } from './yamlReader.ts';

// The validators of single fields that several parts of routes.yaml share. Each reports its
// problem on the reader (file, line, field, what is allowed) and returns undefined for it.

/** Backend and route names become metric labels and log fields: keep them plain. */
export const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const NAME_RULE = 'a lower-case name: a letter, then letters, digits, - or _ (e.g. thoughts-api)';

export function wholeNumber(reader: YamlReader, node: unknown, field: string, min: number, max: number, note: string): number | undefined {
  if (node === undefined) return undefined;
  const rule = `a whole number from ${min} to ${max} (${note})`;
  const value = reader.number(node, field, rule);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    reader.report(node, field, `${value} is not allowed: ${rule}`);
    return undefined;
  }
  return value;
}

export function percentOf(reader: YamlReader, node: unknown, field: string, fallback: number): number | undefined {
  if (node === undefined) return fallback;
  const value = reader.number(node, field, 'a percent from 0 to 100');
  if (value === undefined) return undefined;
  if (value < 0 || value > 100) {
    reader.report(node, field, `${value} is not allowed: a percent from 0 to 100`);
    return undefined;
  }
  return value;
}

export function validateMethods(reader: YamlReader, node: unknown, field: string): ReadonlySet<string> | undefined {
  const written = reader.strings(node, field, `a list of ${METHODS.join(', ')}`);
  if (!written) return undefined;
  const methods = new Set<string>();
  let ok = true;
  for (const { value, node: item } of written) {
    const method = value.toUpperCase();
    if ((METHODS as readonly string[]).includes(method)) {
      methods.add(method);
    } else {
      reader.report(item, field, `'${value}' is not a method; allowed: ${METHODS.join(', ')}`);
      ok = false;
    }
  }
  return ok ? methods : undefined;
}
