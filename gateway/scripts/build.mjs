// `npm run build -w gateway`, run by `npm pack` (prepack): dist/ is the gateway as it ships —
// JavaScript with type declarations, run by plain Node, no TypeScript loader. It holds the
// compiled sources, the dashboard's static files beside the module that reads them, and
// @mythoughts/runtime compiled into dist/node_modules, where Node resolves it from dist/ and
// npm packs it with dist/: the tarball installs alone, with nothing of this repo beside it.
// The repo's own runs never use dist/ (bin/gateway.mjs runs src/ wherever src/ exists).
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const GATEWAY = path.resolve(import.meta.dirname, '..');
const DIST = path.join(GATEWAY, 'dist');
const RUNTIME_SOURCE = path.resolve(GATEWAY, '../packages/runtime');
const RUNTIME_BUILD = path.join(DIST, 'node_modules/@mythoughts/runtime');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const tsc = (project) => execFileSync(process.execPath, [TSC, '-p', path.join(GATEWAY, project)], { stdio: 'inherit' });

rmSync(DIST, { recursive: true, force: true });

// Runtime first: the gateway's build reads its declarations from there (tsconfig.build.json paths).
tsc('tsconfig.runtime.json');
const { name, version } = JSON.parse(readFileSync(path.join(RUNTIME_SOURCE, 'package.json'), 'utf8'));
const runtimeManifest = { name, version, type: 'module', exports: { './*': { types: './*.d.ts', default: './*.js' } } };
writeFileSync(path.join(RUNTIME_BUILD, 'package.json'), `${JSON.stringify(runtimeManifest, null, 2)}\n`);

tsc('tsconfig.build.json');
cpSync(path.join(GATEWAY, 'src/admin/dashboard'), path.join(DIST, 'admin/dashboard'), { recursive: true });
