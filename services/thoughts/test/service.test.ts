import { describeDocumentedService } from '../../../packages/shared/test/support/documentedService.ts';
import { thoughtsService } from '../src/service.ts';

// The JSON API itself (thoughts, search, delete) is checked by the contract suite in
// tests/contract, with the same assertions as the monolith; here only what the service adds.
describeDocumentedService({
  spec: thoughtsService,
  documentFile: new URL('../src/openapi.yaml', import.meta.url),
  operations: [
    'GET /api/me/thoughts/',
    'POST /api/me/thoughts/',
    'GET /api/thoughts/',
    'GET /api/thoughts/{thoughtId}/',
    'DELETE /admin/thoughts/{thoughtId}/',
  ],
  // No token on purpose: the text is checked before the token, by the validator first.
  wrongType: { method: 'POST', path: '/api/me/thoughts/', body: { text: { a: 1 } }, field: 'text' },
});
