import type { YamlReader } from './yamlReader.ts';

/**
 * `testers: [alice, bob]` — users whose valid JWT lets them pick a backend with the
 * X-Gateway-Backend header (see decide/override.ts). Usernames as the users service signs
 * them; an empty or absent list means no tester.
 */
export function validateTesters(reader: YamlReader, node: unknown): string[] {
  if (node === undefined || node === null) return [];
  const written = reader.strings(node, 'testers', 'a list of usernames, e.g. [alice, bob]') ?? [];
  const testers: string[] = [];
  for (const { value, node: item } of written) {
    if (value.trim() !== value || value.length > 50)
      reader.report(item, 'testers', `'${value}' is not a username (at most 50 characters, no surrounding spaces)`);
    else testers.push(value);
  }
  return testers;
}
