import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * Old and new are two implementations of one contract (docs/api-contract.md): no file of a back
 * end (the monolith, the users service, the thoughts service) imports another back end's code
 * — its handlers, its stores, anything — and from this repo's packages (@mythoughts/shared,
 * @mythoughts/runtime) it imports only what the design shares (packages/shared-by-design.json:
 * database, tokens, configuration, logging/HTTP plumbing). Checked here over every import of every file, and through the lint
 * rule in eslint.config.js, both shown to refuse each way of breaking it.
 */
const root = path.resolve(import.meta.dirname, '..');

interface SharedByDesign {
  backEnds: string[];
  sharedModules: Record<string, string[]>;
}
const design = JSON.parse(readFileSync(path.join(root, 'packages/shared-by-design.json'), 'utf8')) as SharedByDesign;
const SHARED_MODULES = new Set(Object.values(design.sharedModules).flat());
// The service tests' common kit (OpenAPI document, Swagger UI, probes): test code, not a handler or a store.
const SHARED_TEST_KIT = 'packages/shared/test/support/';

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** What a file of a back end imports that it must not, one line each ('' when all is well). */
function breaches(file: string, source: string): string[] {
  const side = design.backEnds.find((folder) => file.startsWith(`${folder}/`));
  if (!side) throw new Error(`${file} is not in a back end`);
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const specifier = (match[1] ?? match[2])!;
    if (specifier.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const ownCode = target.startsWith(`${side}/`) || (target.startsWith(SHARED_TEST_KIT) && file.startsWith(`${side}/test/`));
      if (!ownCode) found.push(`${file} imports ${target}, outside ${side}/`);
    } else if (specifier.startsWith('@mythoughts/')) {
      if (!SHARED_MODULES.has(specifier)) found.push(`${file} imports ${specifier}: not in packages/shared-by-design.json`);
    }
  }
  return found;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|mts|js|mjs)$/.test(name) && !name.split(path.sep).includes('node_modules'))
    .map((name) => `${folder}/${name.split(path.sep).join('/')}`);
}

/** Imports that would share a handler or a store, or reach around the list, and the check that must name each. */
const FORBIDDEN: Array<[file: string, line: string, eslintRule: string]> = [
  ['legacy-monolith/src/api/views.ts', "import { ThoughtStore } from '../../../services/thoughts/src/stores/thoughtStore.ts';", 'import-x/no-restricted-paths'],
  ['services/thoughts/src/service.ts', "import { Models } from '@mythoughts/legacy-monolith/src/models.ts';", 'no-restricted-imports'],
  ['services/users/src/service.ts', "import { thoughtsRoutes } from '../../thoughts/src/handlers/thoughts.ts';", 'import-x/no-restricted-paths'],
  ['services/users/src/service.ts', "import { UserStore } from '@mythoughts/shared/stores/users';", 'no-restricted-imports'],
  ['services/thoughts/src/handlers/thoughts.ts', "import { seedDemoData } from '../../../../packages/shared/src/db/seed.ts';", 'no-restricted-imports'],
];

describe('each back end owns its code', () => {
  it('no file of the monolith or a service imports another back end, or a shared module off the list', () => {
    const files = design.backEnds.flatMap(sourceFiles);
    expect(files).toContain('legacy-monolith/src/models.ts');
    expect(files).toContain('services/thoughts/src/stores/thoughtStore.ts');
    expect(files.flatMap((file) => breaches(file, readFileSync(path.join(root, file), 'utf8')))).toEqual([]);
  });

  it('the check names each way of sharing a handler or a store, and lets own code, the listed modules and libraries through', () => {
    for (const [file, line] of FORBIDDEN) expect(breaches(file, line), line).toHaveLength(1);
    const allowed = [
      "import { createTokenSigner } from '@mythoughts/runtime/tokens';",
      "import type { Schema } from '@mythoughts/shared/db/schema';",
      "import { loginRoutes } from './handlers/login.ts';",
      "import express from 'express';",
    ].join('\n');
    expect(breaches('services/users/src/service.ts', allowed)).toEqual([]);
    expect(breaches('services/users/test/service.test.ts', "import { x } from '../../../packages/shared/test/support/documentedService.ts';")).toEqual([]);
  });

  it('npm run lint refuses the same imports, naming the rule', async () => {
    const eslint = new ESLint({ cwd: root });
    for (const [file, line, rule] of FORBIDDEN) {
      // A plain-JS probe beside the file: the import rules apply alike, without type-checking the whole program.
      const probe = file.replace(/\.ts$/, '.ownership-probe.js');
      const [result] = await eslint.lintText(`${line}\n`, { filePath: path.join(root, probe) });
      expect(
        result!.messages.map((message) => message.ruleId),
        line,
      ).toContain(rule);
    }
  });
});
