// `npm run lint` (with madge --circular): the rules that keep the code base in the shape the
// READMEs describe. Formatting is Prettier's job (`npm run format`), so no rule here is about
// layout.
import js from '@eslint/js';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

const SOURCES = ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'];
const TYPESCRIPT = ['**/*.ts', '**/*.mts'];

/**
 * The gateway's layers, in the order a request meets them: (core) → config → match → decide →
 * forward, with shadow beside forward and observe (metrics, logs) recording for both; the
 * plan store, the rollout controller and the fleet registry work off the request path; admin, cli and the
 * wiring (gateway.ts with its control and data planes, publicHandler.ts, cli.ts) sit on top. Each entry lists what a folder
 * must not import: nothing from a layer above it, so no circle can form between layers and
 * a lower layer is testable without the ones above.
 */
const GATEWAY = 'gateway/src';
const WIRING = ['gateway.ts', 'controlPlane.ts', 'dataPlane.ts', 'observers.ts', 'stopSignal.ts', 'publicHandler.ts', 'cli.ts'];
const ABOVE_THE_REQUEST = ['plan', 'ops', 'rollout', 'fleet', 'replay', 'admin', 'cluster', 'cli'];
const FORBIDDEN = {
  core: {
    from: ['config', 'match', 'decide', 'forward', 'shadow', 'observe', ...ABOVE_THE_REQUEST],
    why: 'core holds what every layer shares (methods, the bucket hash, JSON paths) and imports nothing',
  },
  config: {
    from: ['decide', 'forward', 'shadow', 'observe', ...ABOVE_THE_REQUEST],
    why: 'config is the bottom layer (what routes.yaml says, parsed and validated once); it may use match for path patterns',
  },
  match: { from: ['decide', 'forward', 'shadow', 'observe', ...ABOVE_THE_REQUEST], why: 'match imports only config' },
  decide: {
    from: ['forward', 'shadow', 'observe', ...ABOVE_THE_REQUEST],
    why: 'decide imports only config and match: a decision is a value, made before anything is forwarded',
  },
  forward: { from: ['shadow', ...ABOVE_THE_REQUEST], why: 'forward knows no shadow: the copy plugs in as one of its response steps' },
  shadow: { from: ABOVE_THE_REQUEST, why: "shadow runs beside forward, off the client path (it may implement forward's response-step interface)" },
  observe: { from: ['forward', 'shadow', ...ABOVE_THE_REQUEST], why: 'observe records what the steps report to it and knows none of them' },
  plan: {
    from: ['forward', 'shadow', 'ops', 'rollout', 'fleet', 'replay', 'admin', 'cluster', 'cli'],
    why: 'the plan store reads and writes routes.yaml with config (and estimates a change from the clients observe saw); whatever edits the plan sits on top of it',
  },
  rollout: { from: ['replay', 'admin', 'cluster', 'cli'], why: 'the rollout controller runs below admin and cli, which drive it' },
  fleet: {
    from: ['forward', 'rollout', 'replay', 'admin', 'cluster', 'cli'],
    why: 'the fleet registry publishes what the replica serves and counts (plan, observe, shadow) and is read by the rollout, admin and cli above it',
  },
  replay: {
    from: ['plan', 'rollout', 'fleet', 'admin', 'cluster', 'cli'],
    why: 'replay suites (export, hurl, replaying) are built from shadow/ alone, off every running gateway; the CLI drives them',
  },
  admin: { from: ['replay', 'cluster', 'cli'], why: 'admin serves the admin port; the cluster primary and the CLI use it' },
  // The cluster primary is wiring too (it forks workers that run gateway.ts): only the CLI is above it.
  cluster: { from: ['cli'], why: 'the CLI starts the cluster, not the other way round', wiring: true },
};
const layering = Object.entries(FORBIDDEN).flatMap(([target, { from, why, wiring = false }]) => [
  ...from.map((source) => ({ target: `${GATEWAY}/${target}`, from: `${GATEWAY}/${source}`, message: `${target}/ must not import ${source}/: ${why}.` })),
  ...(wiring ? [] : WIRING).map((file) => ({
    target: `${GATEWAY}/${target}`,
    from: `${GATEWAY}/${file}`,
    message: `${target}/ must not import ${file}: the wiring is built on top of every folder.`,
  })),
]);

/**
 * The packages of the workspace: runtime is the bottom (it ships inside the packed gateway, so
 * it may hold nothing of the back ends), shared sits on it, the back ends never import each
 * other or the gateway, and the gateway takes nothing from shared.
 */
const PACKAGES = [
  {
    target: 'packages/runtime',
    from: ['packages/shared', 'legacy-monolith', 'services', 'gateway'],
    why: '@mythoughts/runtime is compiled into the packed gateway and must stand alone',
  },
  {
    target: 'packages/shared',
    from: ['legacy-monolith', 'services', 'gateway'],
    why: '@mythoughts/shared is what every process imports; it imports none of them',
  },
  { target: 'legacy-monolith', from: ['services', 'gateway'], why: 'the monolith stands alone beside the new services' },
  { target: 'services/users', from: ['legacy-monolith', 'services/thoughts', 'gateway'], why: 'each service shares code only through @mythoughts/shared' },
  { target: 'services/thoughts', from: ['legacy-monolith', 'services/users', 'gateway'], why: 'each service shares code only through @mythoughts/shared' },
  {
    target: 'gateway',
    from: ['legacy-monolith', 'services', 'packages/shared'],
    why: 'the gateway talks to the back ends over HTTP only and installs without their code (it may use @mythoughts/runtime)',
  },
].flatMap(({ target, from, why }) => from.map((source) => ({ target, from: source, message: `${target} must not import ${source}: ${why}.` })));

const SHARED_BY_DESIGN = JSON.parse(readFileSync(new URL('./packages/shared-by-design.json', import.meta.url), 'utf8'));
const BACK_ENDS = SHARED_BY_DESIGN.backEnds;
const SHARED_MODULES = Object.values(SHARED_BY_DESIGN.sharedModules).flat();

/**
 * Old and new are two implementations of one contract: a back end imports nothing of another
 * back end (also not through its package name) and, from this repo's packages, only the
 * modules the design shares (packages/shared-by-design.json) — never a handler or a store.
 * The packages' files are reached through their names, not by a relative path around the list.
 */
const OWN_CODE_ONLY = {
  patterns: [
    {
      regex: `^@mythoughts/(?!(?:${SHARED_MODULES.map((module) => module.slice('@mythoughts/'.length)).join('|')})$)`,
      message:
        "a back end imports from this repo's packages only what packages/shared-by-design.json lists (no handler, no store, no other back end's code): write it on your own side.",
    },
    {
      regex: '(^|/)packages/[^/]+/src/',
      message: 'import @mythoughts/<package>/<module> (checked against packages/shared-by-design.json), not its files by path.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'data/**', 'test-results/**', 'bench/tmp/**', 'gateway/dist/**'] },
  { files: SOURCES, ...js.configs.recommended },
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: TYPESCRIPT })),
  {
    files: SOURCES,
    plugins: { 'import-x': importX },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.mts', '.js', '.mjs', '.json'] })],
      'import-x/extensions': ['.ts', '.mts', '.js', '.mjs'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-useless-path-segments': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-unresolved': 'error',
      'import-x/no-unused-modules': [
        'error',
        {
          // Always lint the whole repo (`eslint .`): an export counts as used only by a file that is linted with it.
          unusedExports: true,
          // A type in an exported signature is part of that API even when no caller names it.
          ignoreUnusedTypeExports: true,
          src: ['.'],
          // Entry points: imported by tools or run by node, not imported by other modules.
          ignoreExports: ['eslint.config.js', 'vitest.config.ts', '**/*.test.ts', 'tests/support/globalSetup.ts', 'deploy/**/*.mjs', 'deploy/**/*.d.mts'],
        },
      ],
      'import-x/no-restricted-paths': ['error', { zones: [...layering, ...PACKAGES] }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: BACK_ENDS.map((folder) => `${folder}/**`),
    rules: { 'no-restricted-imports': ['error', OWN_CODE_ONLY] },
  },
  {
    // Type-aware rules that pay for themselves: a promise nobody awaits or catches is a
    // silent failure (house rule: no silent catch).
    files: TYPESCRIPT,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The admin dashboard runs in the browser (plain script, no build step).
    files: [`${GATEWAY}/admin/dashboard/**/*.js`],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
);
