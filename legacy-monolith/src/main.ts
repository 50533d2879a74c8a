import { runMain } from '@mythoughts/shared/errors';
import { runServiceProcess } from '@mythoughts/shared/http/service';
import { monolithService } from './service.ts';

runMain('legacy-monolith', () => runServiceProcess(monolithService));
