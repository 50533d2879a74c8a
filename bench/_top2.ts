import { readFileSync } from 'node:fs';
import { stageOf } from './cpuProfile.ts';
const lines = readFileSync(process.argv[2]!, 'utf8').split('\n');
const want = process.argv[3];
const self = new Map<string, number>(); let tot = 0; const incl = new Map<string, number>();
for (const l of lines) { const i = l.lastIndexOf(' '); const s = l.slice(0, i); const v = Number(l.slice(i + 1)); tot += v; if (want && !stageOf(s).startsWith(want)) continue; const fr = s.split(';'); self.set(fr.at(-1)!, (self.get(fr.at(-1)!) ?? 0) + v); for (const x of new Set(fr)) incl.set(x, (incl.get(x) ?? 0) + v); }
console.log('SELF'); for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * v / tot).toFixed(2).padStart(6), k);
console.log('INCL'); for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100 * v / tot).toFixed(2).padStart(6), k);
