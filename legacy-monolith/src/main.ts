import { runMain } from '@mythoughts/runtime/errors';
import { runServiceProcess } from '@mythoughts/shared/http/service';
import { monolithService } from './service.ts';

runMain('legacy-monolith', () => runServiceProcess(monolithService));
