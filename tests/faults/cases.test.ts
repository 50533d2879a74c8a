import { describe, expect, it } from 'vitest';
import type { CaseSettings } from '../../faults/case.ts';
import { CASES } from '../../faults/cases/index.ts';

/**
 * `npm run faults`, small: every fault case on the real system (its own back ends, the gateway
 * as its own process), with a little load, must count zero failures. The script runs the same
 * cases with more clients, longer and more repeats (faults/README.md).
 */
const SMALL: CaseSettings = { clients: 3, seconds: 3, repeat: 1, outage: 10 };

describe('fault cases (faults/): counts of failures under faults, never timings', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: zero failed',
    async (_name, faultCase) => {
      const result = await faultCase.run(SMALL);
      expect(result.tried).toBeGreaterThan(0);
      expect(result.failed, result.detail).toBe(0);
    },
    90_000,
  );
});
