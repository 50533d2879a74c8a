import type { FaultCase } from '../case.ts';
import { adminBypassCase } from './adminBypass.ts';
import { badPlansCase } from './badPlans.ts';
import { deposedLeaderCase } from './deposedLeader.ts';
import { etcdDownCase } from './etcdDown.ts';
import { fleetShiftCase } from './fleetShift.ts';
import { handoverCase } from './handover.ts';
import { jwtAttacksCase } from './jwtAttacks.ts';
import { killServiceCase } from './killService.ts';
import { leaderKillCase } from './leaderKill.ts';
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
  leaderKillCase,
  handoverCase,
  deposedLeaderCase,
  etcdDownCase,
];
