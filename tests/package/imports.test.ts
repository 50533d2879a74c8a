import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BACK_END_ONLY_PACKAGES } from './dependencies.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GATEWAY = path.join(ROOT, 'gateway');
const RUNTIME = path.join(ROOT, 'packages/runtime');

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|mts|js|mjs)$/.test(name) && !name.split(path.sep).includes('node_modules'))
    .map((name) => path.join(dir, name));
}

/** Every module specifier a file imports, statically or with import(). */
const specifiersOf = (file: string): string[] => ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageName = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** The imports of `dir`'s files that leave `dir` and are neither Node's own modules nor in `allowed`. */
function foreignImports(dir: string, allowed: ReadonlySet<string>): string[] {
  return sourceFiles(dir).flatMap((file) =>
    specifiersOf(file)
      .filter((specifier) => {
        if (specifier.startsWith('.')) return !path.resolve(path.dirname(file), specifier).startsWith(dir + path.sep);
        return !isBuiltin(specifier) && !allowed.has(packageName(specifier));
      })
      .map((specifier) => `${path.relative(ROOT, file)}: ${specifier}`),
  );
}

describe('the gateway takes no code from the back ends', () => {
  const gateway = manifestOf(GATEWAY);

  it('depends on no workspace package at run time, and never on @mythoughts/shared', () => {
    expect(Object.keys(gateway.dependencies ?? {}).filter((name) => name.startsWith('@mythoughts/'))).toEqual([]);
    expect(Object.keys(gateway.devDependencies ?? {})).not.toContain('@mythoughts/shared');
  });

  it('imports, under gateway/src, only its own files, Node, its dependencies and @mythoughts/runtime', () => {
    const allowed = new Set([...Object.keys(gateway.dependencies ?? {}), '@mythoughts/runtime']);
    expect(foreignImports(path.join(GATEWAY, 'src'), allowed)).toEqual([]);
  });

  it('ships @mythoughts/runtime inside its build, so the gateway declares what runtime needs', () => {
    const runtime = manifestOf(RUNTIME).dependencies ?? {};
    const missing = Object.entries(runtime).filter(([name, version]) => gateway.dependencies?.[name] !== version);
    expect(missing.map(([name, version]) => `${name}@${version}`)).toEqual([]);
  });
});

describe('@mythoughts/runtime stands alone', () => {
  const runtime = manifestOf(RUNTIME);

  it('has no database driver, password hashing or HTTP framework among its dependencies', () => {
    const names = Object.keys(runtime.dependencies ?? {});
    expect(names.filter((name) => [...BACK_END_ONLY_PACKAGES, 'express'].includes(name))).toEqual([]);
  });

  it('imports only its own files, Node and its dependencies', () => {
    expect(foreignImports(path.join(RUNTIME, 'src'), new Set(Object.keys(runtime.dependencies ?? {})))).toEqual([]);
  });
});

describe('the repo runs the gateway from its sources, never from a build', () => {
  it('imports @mythoughts/gateway by name nowhere (the name resolves to dist/, the build that ships)', () => {
    const folders = ['gateway/src', 'gateway/test', 'gateway/bin', 'tests', 'scripts', 'bench', 'faults', 'packages', 'legacy-monolith', 'services'];
    const byName = folders
      .flatMap((folder) => sourceFiles(path.join(ROOT, folder)))
      .flatMap((file) =>
        specifiersOf(file)
          .filter((specifier) => packageName(specifier) === '@mythoughts/gateway')
          .map((specifier) => `${path.relative(ROOT, file)}: ${specifier}`),
      );
    expect(byName).toEqual([]);
  });
});
