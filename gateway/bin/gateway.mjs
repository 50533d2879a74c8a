#!/usr/bin/env node
// The `gateway` command. A checkout of the repo has the TypeScript sources: they run, through
// tsx's loader, so nothing in the repo can ever run a stale build. The packed gateway ships
// no sources, only dist/ (compiled by prepack), which plain Node runs.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli.ts', import.meta.url);
const build = new URL('../dist/cli.js', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(build.href);
}
