import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { foldProfile, stageOf } from './cpuProfile.ts';
const dir = process.argv[2]!;
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
const p = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
const f = foldProfile(p, { fromEndMs: 0, lengthMs: (p.endTime - p.startTime) / 1000 });
const self = new Map<string, number>();
const incl = new Map<string, number>();
for (const [s, ms] of f.stacks) { const fr = s.split(';'); const leaf = fr.at(-1)!; self.set(leaf, (self.get(leaf) ?? 0) + ms); for (const x of new Set(fr)) incl.set(x, (incl.get(x) ?? 0) + ms); }
const tot = f.busyMs;
console.log('SELF'); for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 40))) console.log((100 * v / tot).toFixed(2).padStart(6), k);
console.log('INCL'); for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 40))) if (/gateway\/src|undici\/lib|prom-client|pino|sonic/.test(k)) console.log((100 * v / tot).toFixed(2).padStart(6), k);
