import { describeDocumentedService } from '../../../packages/shared/test/support/documentedService.ts';
import { usersService } from '../src/service.ts';

// The JSON API itself (login, user admin) is checked by the contract suite in tests/contract,
// with the same assertions as the monolith; here only what the service adds around it.
describeDocumentedService({
  spec: usersService,
  documentFile: new URL('../src/openapi.yaml', import.meta.url),
  operations: ['POST /api/login/', 'POST /admin/users/'],
  wrongType: { method: 'POST', path: '/api/login/', body: { username: ['bruce'], password: 'password' }, field: 'username' },
  wrongTypeAfterMissingField: { password: ['password'] },
});
