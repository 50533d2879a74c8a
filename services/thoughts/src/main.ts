import { runMain } from '@mythoughts/runtime/errors';
import { runServiceProcess } from '@mythoughts/shared/http/service';
import { thoughtsService } from './service.ts';

runMain('thoughts', () => runServiceProcess(thoughtsService));
