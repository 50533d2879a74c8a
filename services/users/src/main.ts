import { runMain } from '@mythoughts/runtime/errors';
import { runServiceProcess } from '@mythoughts/shared/http/service';
import { usersService } from './service.ts';

runMain('users', () => runServiceProcess(usersService));
