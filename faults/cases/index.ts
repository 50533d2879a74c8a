import type { FaultCase } from '../case.ts';
import { adminBypassCase } from './adminBypass.ts';
import { badPlansCase } from './badPlans.ts';
import { etcdDownCase } from './etcdDown.ts';
import { fleetShiftCase } from './fleetShift.ts';
import { jwtAttacksCase } from './jwtAttacks.ts';
import { killServiceCase } from './killService.ts';
import { reloadsCase } from './reloads.ts';
import { sigtermCase } from './sigterm.ts';
import { slowClientsCase } from './slowClients.ts';

/** Every case, in the order `npm run faults` runs them and prints its table. */
export const CASES: readonly FaultCase[] = [
  reloadsCase,
  killServiceCase,
  sigtermCase,
  badPlansCase,
  adminBypassCase,
  jwtAttacksCase,
  slowClientsCase,
  // The fleet: three replicas on one plan in etcd.
  fleetShiftCase,
  etcdDownCase,
];
