import { describeContractOn } from './describeContract.ts';

describeContractOn('postgres');
