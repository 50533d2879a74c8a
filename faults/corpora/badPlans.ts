import { SHIPPED_ROUTES as SHIPPED } from '../../gateway/test/helpers/shippedPlan.ts';

/**
 * Plans the gateway must refuse — by `gateway validate`, by the JSON Schema editors use, and
 * by a running gateway on reload, which keeps the plan it runs — each with a problem that names
 * file:line. One copy, shared by the gateway's tests (planSafety, schema) and `npm run faults`.
 */
export interface BadPlan {
  readonly name: string;
  readonly text: string;
}

/** A careless edit of the shipped plan that would expose /admin; `leakLine` is the route that would leak. */
export interface LeakingPlan extends BadPlan {
  readonly leakLine: number;
  readonly says: string;
}

/** A YAML syntax error; `firstProblem` is the first line `gateway validate` prints, the file written as FILE. */
export interface SyntaxErrorPlan extends BadPlan {
  readonly firstProblem: RegExp;
}

/** The shipped plan with `from` replaced by `to` (which must occur exactly once). */
export function edited(from: string, to: string): string {
  const parts = SHIPPED.split(from).length - 1;
  if (parts !== 1) throw new Error(`routes.yaml contains ${JSON.stringify(from)} ${parts} times, not once: update faults/corpora/badPlans.ts`);
  return SHIPPED.replace(from, to);
}

/** 1-based line of the first line of `text` containing `needle` (after `after`, if given). */
export function lineOf(text: string, needle: string, after = ''): number {
  const start = after ? text.indexOf(after) : 0;
  return text.slice(0, text.indexOf(needle, start)).split('\n').length;
}

export const ADMIN_ROUTE = `  - name: admin
    match: { path: /admin/** }
    deny: 404
`;
export const SITE_MATCH = 'match: { path: /** }';

function leak(name: string, text: string, leakNeedle: string, says: string): LeakingPlan {
  return { name, text, leakLine: lineOf(text, leakNeedle), says };
}

/** The five plans that once validated and exposed /admin; each names the route that leaks. */
export const LEAKING_PLANS: readonly LeakingPlan[] = [
  leak(
    'the admin deny limited to GET and HEAD',
    edited('match: { path: /admin/** }', 'match: { path: /admin/**, methods: [GET, HEAD] }'),
    SITE_MATCH,
    'applies only to methods GET, HEAD, every other request falls through',
  ),
  leak(
    'the admin deny with a header condition',
    edited('match: { path: /admin/** }', 'match: { path: /admin/**, headers: { x-internal: "no" } }'),
    SITE_MATCH,
    'applies only to headers x-internal: no',
  ),
  leak('the admin route deleted', edited(ADMIN_ROUTE, ''), SITE_MATCH, "no deny route above it covers '/admin/**'"),
  leak(
    '/admin/ instead of /admin/**',
    edited('match: { path: /admin/** }', 'match: { path: /admin/ }'),
    SITE_MATCH,
    "covers only '/admin/', not all of '/admin/**': make it deny '/admin/**'",
  ),
  leak(
    'a broader route above it',
    edited(
      ADMIN_ROUTE,
      `  - name: any-users
    match: { path: /*/users/** }
    split: { users: 10 }
${ADMIN_ROUTE}`,
    ),
    'match: { path: /*/users/** }',
    "'/*/users/**' sends requests under the protected path '/admin/**' (e.g. /admin/users/x) to users and the legacy backend",
  ),
];

/** Other mistakes about `protect:` (their messages are asserted in planSafety.test.ts). */
export const PROTECT_MISTAKES = {
  metricsDenyForGetOnly: {
    name: 'a /metrics deny limited to GET',
    text: edited('match: { path: /metrics }', 'match: { path: /metrics, methods: [GET] }'),
  },
  ownProtectedPathReached: {
    name: 'a protected path of its own that the site route reaches',
    text: edited('routes:\n', 'protect: [/admin/**, /metrics, /internal/**]\nroutes:\n'),
  },
  patternWithoutSlash: { name: "a protect pattern without its leading '/'", text: edited('routes:\n', 'protect: [/admin/**, admin]\nroutes:\n') },
} as const satisfies Record<string, BadPlan>;

/** YAML syntax errors, reported at the real line and column (not where the parser gave up). */
export const SYNTAX_ERROR_PLANS: readonly SyntaxErrorPlan[] = (() => {
  const tab = edited('  users:    { url', '\tusers:    { url');
  const bracket = edited('match: { path: /api/me/thoughts/** }', 'match: { path: [/api/me/thoughts/**, /api/me/x }');
  const blockBracket = edited('  keys: [jwt:username', '  keys:\n    [jwt:username').replace(/cookie:gw_cohort\]/, 'cookie:gw_cohort');
  const duplicate = edited(
    '    group: thoughts\n    split: { thoughts: 10 }\n    fallback: legacy\n    # Compare',
    '    group: thoughts\n    split: { thoughts: 10 }\n    group: thoughts\n    fallback: legacy\n    # Compare',
  );
  return [
    {
      name: 'a tab used as indentation',
      text: tab,
      firstProblem: new RegExp(`^FILE:${lineOf(tab, '\tusers')}:1: YAML syntax: Tabs are not allowed as indentation$`),
    },
    {
      name: 'an unclosed [ (reported at the bracket)',
      text: bracket,
      firstProblem: new RegExp(`^FILE:${lineOf(bracket, '[/api/me/thoughts/**')}:\\d+: YAML syntax: '[[{]' is never closed`),
    },
    {
      name: 'an unclosed [ in a block mapping, several lines before the next key',
      text: blockBracket,
      firstProblem: new RegExp(`^FILE:${lineOf(blockBracket, '    [jwt:username')}:5: YAML syntax: '\\[' is never closed`),
    },
    {
      name: 'a duplicate key (reported at the second one)',
      text: duplicate,
      firstProblem: new RegExp(
        `^FILE:${lineOf(duplicate, '    group: thoughts', '    split: { thoughts: 10 }\n    group')}:5: YAML syntax: Map keys must be unique$`,
      ),
    },
  ];
})();

// A small plan of one route before the catch-all, for the mistakes the schema and the validator both catch.
const base = (route: string, top = '') => `${top}
backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true }
  thoughts: { url: http://127.0.0.1:8003 }
routes:
  - ${route}
  - { name: site, match: { path: /** }, split: {} }
`;

/** Wrong plans that the schema (editors underline them) AND the gateway's validator must refuse. */
export const SCHEMA_REFUSED_PLANS: readonly BadPlan[] = (
  [
    ['a misspelt top-level key', base('{ name: api, match: { path: /api/** }, split: {} }', 'route: []')],
    ['a misspelt route key', base('{ name: api, match: { path: /api/** }, split: {}, fallbak: legacy }')],
    ['a route with neither split nor deny', base('{ name: api, match: { path: /api/** } }')],
    ['a deny route with a fallback', base('{ name: api, match: { path: /api/** }, deny: 404, fallback: legacy }')],
    ['a deny status that is not an error', base('{ name: api, match: { path: /api/** }, deny: 200 }')],
    ['a percent over 100', base('{ name: api, match: { path: /api/** }, split: { thoughts: 101 } }')],
    ['a percent as text', base("{ name: api, match: { path: /api/** }, split: { thoughts: '25%' } }")],
    ['a path without a leading slash', base('{ name: api, match: { path: api/** }, split: {} }')],
    ["'**' before the last segment", base('{ name: api, match: { path: /api/**/x }, split: {} }')],
    ['an unknown method', base('{ name: api, match: { path: /api/**, methods: [FETCH] }, split: {} }')],
    ['a name with capitals', base('{ name: Api, match: { path: /api/** }, split: {} }')],
    ['a shadow without to', base('{ name: api, match: { path: /api/** }, split: {}, shadow: { percent: 100 } }')],
    [
      'a rollout step that is neither a percent nor pause',
      base('{ name: api, match: { path: /api/** }, split: { thoughts: 0 }, rollout: { steps: [5, wait, 100] } }'),
    ],
    [
      'a rollout interval under 1 s',
      base('{ name: api, match: { path: /api/** }, split: { thoughts: 0 }, rollout: { steps: [5, 100], interval_seconds: 0 } }'),
    ],
    ['an unknown on_failure', base('{ name: api, match: { path: /api/** }, split: { thoughts: 0 }, rollout: { steps: [5, 100], on_failure: retry } }')],
    ['a misspelt rollout key', base('{ name: api, match: { path: /api/** }, split: { thoughts: 0 }, rollout: { steps: [5, 100], failure_limt: 2 } }')],
    ['a backend url with a path', base('{ name: api, match: { path: /api/** }, split: {} }').replace('http://127.0.0.1:8003', 'http://127.0.0.1:8003/api')],
    ['an https backend', base('{ name: api, match: { path: /api/** }, split: {} }').replace('http://127.0.0.1:8003', 'https://127.0.0.1:8003')],
    ['a timeout of 0', base('{ name: api, match: { path: /api/** }, split: {} }').replace('8003 }', '8003, connect_timeout_ms: 0 }')],
    ['protect as one string', base('{ name: api, match: { path: /api/** }, split: {} }', 'protect: /admin/**')],
    ['no routes', 'backends:\n  legacy: { url: http://127.0.0.1:8001, legacy: true }\nroutes: []\n'],
  ] as const
).map(([name, text]) => ({ name, text }));

/** Every plan of the corpus, for a gateway to refuse one after the other. */
export const BAD_PLANS: readonly BadPlan[] = [
  ...LEAKING_PLANS,
  ...Object.values(PROTECT_MISTAKES),
  ...SYNTAX_ERROR_PLANS,
  ...SCHEMA_REFUSED_PLANS,
  {
    name: 'a misspelt backend in a split',
    text: edited('split: { thoughts: 10 }\n    fallback: legacy\n    # Compare', 'split: { thougts: 10 }\n    fallback: legacy\n    # Compare'),
  },
  { name: 'a file cut off mid-way', text: 'routes: [' },
];
