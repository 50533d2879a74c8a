import { runMain } from '@mythoughts/shared/errors';
import { runServiceProcess } from '@mythoughts/shared/http/service';
import { usersService } from './service.ts';

runMain('users', () => runServiceProcess(usersService));
