#!/usr/bin/env node
// The `gateway` command: the sources are TypeScript run without a build step, so register
// tsx's loader first, then hand over to the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
