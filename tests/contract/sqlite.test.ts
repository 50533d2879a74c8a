import { describeContractOn } from './describeContract.ts';

describeContractOn('sqlite');
