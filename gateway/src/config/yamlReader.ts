import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { closest, type ConfigProblem } from './problems.ts';

/** One key of a YAML mapping, with the nodes needed to point at the key or at its value. */
export interface Entry {
  readonly key: string;
  readonly keyNode: unknown;
  readonly value: unknown;
}

/**
 * Reads the YAML syntax tree (not plain JS values) so that every problem can name the line
 * it comes from. Each accessor records a problem and returns undefined when the node is not
 * what the field allows; validators then simply skip what they cannot use.
 */
export class YamlReader {
  readonly problems: ConfigProblem[] = [];

  constructor(
    readonly file: string,
    private readonly lineCounter: LineCounter,
  ) {}

  lineOf(node: unknown, fallback: unknown = undefined): number {
    const range = (node as Node | undefined)?.range ?? (fallback as Node | undefined)?.range;
    return range ? this.lineCounter.linePos(range[0]).line : 1;
  }

  report(node: unknown, field: string, message: string): void {
    this.problems.push({ file: this.file, line: this.lineOf(node), field, message });
  }

  /** The mapping's entries; non-string keys are reported. */
  entries(map: YAMLMap, field: string): Entry[] {
    const result: Entry[] = [];
    for (const pair of map.items as Pair[]) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof key !== 'string' && typeof key !== 'number') {
        this.report(pair.key, field, 'keys must be plain words');
        continue;
      }
      result.push({ key: String(key), keyNode: pair.key, value: pair.value });
    }
    return result;
  }

  /** Entries of a mapping whose keys are all known; unknown keys are reported with the allowed ones. */
  knownEntries(map: YAMLMap, field: string, allowed: readonly string[]): Map<string, Entry> {
    const known = new Map<string, Entry>();
    for (const entry of this.entries(map, field)) {
      if (allowed.includes(entry.key)) {
        known.set(entry.key, entry);
        continue;
      }
      const hint = closest(entry.key, allowed);
      this.report(
        entry.keyNode,
        join(field, entry.key),
        `unknown key '${entry.key}'${hint ? ` (did you mean '${hint}'?)` : ''}; allowed here: ${allowed.join(', ')}`,
      );
    }
    return known;
  }

  /** The entry `key` of `entries`; when it is missing, reports `field.key` as required and says what goes there. */
  required(entries: Map<string, Entry>, map: YAMLMap, field: string, key: string, what: string): Entry | undefined {
    const entry = entries.get(key);
    if (!entry) this.report(map, join(field, key), `is required: ${what}`);
    return entry;
  }

  map(node: unknown, field: string, what: string): YAMLMap | undefined {
    if (isMap(node)) return node;
    this.report(node, field, `must be a mapping (${what})`);
    return undefined;
  }

  seq(node: unknown, field: string, what: string): YAMLSeq | undefined {
    if (isSeq(node)) return node;
    this.report(node, field, `must be a list (${what})`);
    return undefined;
  }

  string(node: unknown, field: string, what: string): string | undefined {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') && String(node.value) !== '') {
      return String(node.value);
    }
    this.report(node, field, `must be ${what}`);
    return undefined;
  }

  number(node: unknown, field: string, what: string): number | undefined {
    if (isScalar(node) && typeof node.value === 'number' && Number.isFinite(node.value)) return node.value;
    this.report(node, field, `must be ${what}`);
    return undefined;
  }

  boolean(node: unknown, field: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.report(node, field, 'must be true or false');
    return undefined;
  }

  /** A list of strings, or a single string taken as a list of one. */
  strings(node: unknown, field: string, what: string): { value: string; node: unknown }[] | undefined {
    if (isScalar(node)) {
      const value = this.string(node, field, what);
      return value === undefined ? undefined : [{ value, node }];
    }
    const seq = this.seq(node, field, what);
    if (!seq) return undefined;
    const result: { value: string; node: unknown }[] = [];
    seq.items.forEach((item, i) => {
      const value = this.string(item, `${field}[${i}]`, what);
      if (value !== undefined) result.push({ value, node: item });
    });
    return result;
  }
}

export function join(field: string, key: string): string {
  return field ? `${field}.${key}` : key;
}
