// The PlanStore, the one read / watch / compare-and-write path for routes.yaml, on real
// files in a temporary directory: versions, compare-and-write refusals, what the audit
// records, one change at a time, and the watch.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePlanStore } from '../src/plan/filePlanStore.ts';
import { commentedRoutes } from './helpers/opsFixture.ts';

const ORIGINAL = commentedRoutes({ legacy: 'http://127.0.0.1:8001', thoughts: 'http://127.0.0.1:8003', users: 'http://127.0.0.1:8002' });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const META = { who: 'tester', via: 'cli', reason: null, dryRun: false } as const;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storeOn(text = ORIGINAL): { store: FilePlanStore; file: string; auditFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'plan-store-'));
  dirs.push(dir);
  const file = path.join(dir, 'routes.yaml');
  writeFileSync(file, text);
  const auditFile = path.join(dir, 'audit.jsonl');
  return { store: new FilePlanStore({ file, auditFile }), file, auditFile };
}

const auditLines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('PlanStore.read', () => {
  it('gives the text, the validated table and the sha256 of the text as version', async () => {
    const { store } = storeOn();
    const read = await store.read();
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.text).toBe(ORIGINAL);
    expect(read.version).toBe(sha256(ORIGINAL));
    expect(read.table.routes.map((r) => r.name)).toEqual(['admin', 'my-thoughts', 'thoughts', 'login', 'site']);
  });

  it('answers 409 with every problem for a file that does not validate, 503 for a missing one', async () => {
    const { store, file } = storeOn(ORIGINAL.replace('split: { thoughts: 10 }', 'split: { thoughts: 110 }'));
    const invalid = await store.read();
    expect(invalid).toMatchObject({ ok: false, status: 409 });
    if (invalid.ok) return;
    expect(invalid.problems[0]).toMatchObject({ file, line: 21 });
    expect(invalid.message).toContain(`${file} is not a valid routes file:\n${file}:21`);

    const missing = await new FilePlanStore({ file: path.join(path.dirname(file), 'nope.yaml') }).read();
    expect(missing).toMatchObject({ ok: false, status: 503, message: expect.stringContaining('no such file') });
  });
});

describe('PlanStore.change', () => {
  it('writes the change, returns the new version, and audits action, details, via and version', async () => {
    const { store, file, auditFile } = storeOn();
    const seen = sha256(ORIGINAL);
    const result = await store.change(
      { kind: 'shift', route: 'thoughts', backend: 'thoughts', percent: 20, only: false },
      {
        who: 'rollout controller',
        via: 'rollout',
        reason: 'gates green',
        dryRun: false,
        action: 'step',
        details: { errorRate: 0.001, p95Ms: 42 },
        expectVersion: seen,
      },
    );
    expect(result.ok && result.applied).toBe(true);
    if (!result.ok) return;
    const text = readFileSync(file, 'utf8');
    expect(result.version).toBe(sha256(text));
    expect(text).toContain('    split: { thoughts: 20 }   # canary\n');
    const lines = auditLines(auditFile);
    expect(lines.map((l) => l.route)).toEqual(['my-thoughts', 'thoughts']);
    expect(lines[0]).toMatchObject({
      who: 'rollout controller',
      via: 'rollout',
      action: 'step',
      reason: 'gates green',
      details: { errorRate: 0.001, p95Ms: 42 },
      version: result.version,
      old: { thoughts: 10, legacy: 90 },
      new: { thoughts: 20, legacy: 80 },
    });
    expect(await store.audit(1)).toEqual([lines[1]]);
  });

  it('defaults the action to the request kind and leaves details out', async () => {
    const { store, auditFile } = storeOn();
    expect((await store.change({ kind: 'panic', route: 'thoughts', only: false }, META)).ok).toBe(true);
    const line = auditLines(auditFile)[0]!;
    expect(line).toMatchObject({ action: 'panic', via: 'cli' });
    expect('details' in line).toBe(false);
  });

  it('refuses with 409 and writes nothing when the file moved on from the expected version', async () => {
    const { store, file, auditFile } = storeOn();
    const seen = (await store.read()) as { version: string };
    // Someone else edits the file (the way editors save: a new file renamed over the old one).
    const edited = ORIGINAL.replace('salt: ops-test', 'salt: ops-test-2');
    writeFileSync(`${file}.tmp`, edited);
    renameSync(`${file}.tmp`, file);

    const result = await store.change({ kind: 'shift', route: 'login', backend: 'users', percent: 5, only: false }, { ...META, expectVersion: seen.version });
    expect(result).toEqual({
      ok: false,
      status: 409,
      message: `${file} changed since it was read (expected version ${seen.version.slice(0, 12)}, it is now at ${sha256(edited).slice(0, 12)}); nothing was written: read the plan again and decide anew`,
    });
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(existsSync(auditFile)).toBe(false);
  });

  it('a dry run checks the version too and returns the diff without writing', async () => {
    const { store, file, auditFile } = storeOn();
    const stale = await store.change({ kind: 'panic-all' }, { ...META, dryRun: true, expectVersion: sha256('another file') });
    expect(stale).toMatchObject({ ok: false, status: 409 });
    const dry = await store.change({ kind: 'panic-all' }, { ...META, dryRun: true, expectVersion: sha256(ORIGINAL) });
    expect(dry).toMatchObject({ ok: true, applied: false, version: sha256(ORIGINAL) });
    expect(dry.ok && dry.diff).toContain('+    split: { thoughts: 0 }   # canary');
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(auditFile)).toBe(false);
  });

  it('runs concurrent changes one at a time: the second expecting the same version is refused', async () => {
    const { store, auditFile } = storeOn();
    const version = sha256(ORIGINAL);
    const request = { kind: 'shift', route: 'login', backend: 'users', percent: 5, only: false } as const;
    const [first, second] = await Promise.all([
      store.change(request, { ...META, expectVersion: version }),
      store.change({ ...request, percent: 7 }, { ...META, expectVersion: version }),
    ]);
    expect(first).toMatchObject({ ok: true, applied: true });
    expect(second).toMatchObject({ ok: false, status: 409 });
    expect(auditLines(auditFile).map((l) => l.new)).toEqual([{ users: 5, legacy: 95 }]);
  });
});

describe('PlanStore.push (a whole plan, on the file store too)', () => {
  it('writes a valid plan and audits each route whose split changed as push; refuses an invalid one naming its file:line, the file unchanged', async () => {
    const { store, file, auditFile } = storeOn();
    const next = ORIGINAL.replace('split: { thoughts: 10 }   # canary', 'split: { thoughts: 15 }   # canary');
    const pushed = await store.push(next, 'ci/routes.yaml', { ...META, expectVersion: sha256(ORIGINAL) });
    expect(pushed).toMatchObject({ ok: true, applied: true, version: sha256(next) });
    expect(readFileSync(file, 'utf8')).toBe(next);
    expect(auditLines(auditFile)).toEqual([
      expect.objectContaining({ action: 'push', route: 'my-thoughts', old: { thoughts: 10, legacy: 90 }, new: { thoughts: 15, legacy: 85 } }),
    ]);

    const invalid = await store.push(next.replace('thoughts: 15', 'thoughts: 150'), 'ci/routes.yaml', META);
    expect(invalid).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringMatching(/^ci\/routes\.yaml is not a valid routes file:\nci\/routes\.yaml:\d+: /),
    });
    const stale = await store.push(ORIGINAL, 'ci/routes.yaml', { ...META, expectVersion: sha256(ORIGINAL) });
    expect(stale).toMatchObject({ ok: false, status: 409 });
    expect(readFileSync(file, 'utf8')).toBe(next);
    expect(auditLines(auditFile)).toHaveLength(1);
  });
});

describe('PlanStore.watch', () => {
  it('calls back after the file is replaced, and no more once stopped', async () => {
    const { store, file } = storeOn();
    let calls = 0;
    const watch = store.watch(
      () => (calls += 1),
      (error) => {
        throw error;
      },
    );
    writeFileSync(`${file}.tmp`, ORIGINAL.replace('ops-test', 'ops-test-3'));
    renameSync(`${file}.tmp`, file);
    await expect.poll(() => calls, { timeout: 3_000 }).toBeGreaterThan(0);
    watch.stop();
    const after = calls;
    writeFileSync(file, ORIGINAL);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(after);
  });
});
