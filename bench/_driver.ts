import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProfiles, formatProfile } from '/work/wt/perf/bench/profile.ts';
const dir = mkdtempSync(path.join(os.tmpdir(), 'perf-prof-'));
const r = await runProfiles(dir, Number(process.argv[2] ?? 5), 50, (l) => console.log(l));
console.log(formatProfile(r));
console.log(dir);
