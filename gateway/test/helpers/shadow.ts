import { scrape, type TestGateway } from './gateway.ts';
import { sample } from './routes.ts';

/**
 * Waits until the route's comparisons (all results together) reach `total`: comparisons end
 * after the client's answer, so a test must wait for them rather than sleep a guessed time.
 */
export async function waitForComparisons(gateway: TestGateway, route: string, total: number, timeoutMs = 5_000): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = await scrape(gateway);
    const counts: Record<string, number> = {};
    for (const result of ['match', 'mismatch', 'error', 'skipped'])
      counts[result] = metrics.get(sample('gateway_shadow_comparisons_total', { route, result })) ?? 0;
    if (Object.values(counts).reduce((a, b) => a + b, 0) >= total) return counts;
    if (Date.now() > deadline) throw new Error(`route ${route}: ${JSON.stringify(counts)} after ${timeoutMs} ms, expected ${total} comparisons`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The book's thoughts API at 0 % on the new service (`candidateUrl`), each of its two routes
 * shadowed as given (the YAML of a `shadow:` value): the plan of the shadow and replay tests
 * against the real system.
 */
export function thoughtsShadowPlan(legacyUrl: string, candidateUrl: string, shadows: { myThoughts: string; thoughts: string }): string {
  return `backends:
  legacy: { url: ${legacyUrl}, legacy: true }
  thoughts: { url: ${candidateUrl} }
routes:
  - { name: admin, match: { path: /admin/** }, deny: 404 }
  - { name: internal, match: { path: /metrics }, deny: 404 }
  - name: my-thoughts
    match: { path: /api/me/thoughts/** }
    group: thoughts
    split: { thoughts: 0 }
    shadow: ${shadows.myThoughts}
  - name: thoughts
    match: { path: /api/thoughts/** }
    group: thoughts
    split: { thoughts: 0 }
    shadow: ${shadows.thoughts}
  - { name: site, match: { path: /** }, split: {} }
`;
}
