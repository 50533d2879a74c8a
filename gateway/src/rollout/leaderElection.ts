import { Election, type Campaign } from 'etcd3';
import type { Logger } from 'pino';
import { ETCD_KEYS, type EtcdConnection } from '../etcd/etcdConnection.ts';
import type { Leadership } from './progress.ts';

/** What a candidate announces in the election: who it is, and where its admin API answers (followers send rollout requests there). */
export interface Candidate {
  readonly replica: string;
  readonly adminUrl: string | null;
}

/** A leadership read back from etcd: still held, taken over by another candidate, or not known (etcd does not answer). */
export type Standing = 'leading' | 'deposed' | 'unreachable';

export interface ElectionEvents {
  /** This process leads from now on; every write it makes carries `leadership`. */
  elected(leadership: Leadership): void;
  /** A leadership this process held is over: its lease was lost (etcd away beyond the TTL, a frozen process) or another leads. */
  lost(why: string): void;
}

/** After a failed campaign (etcd away, lease lost), the next one starts this much later. */
const RETRY_MS = 1_000;
/** Bound on one read of the election: with etcd away the controller holds rather than waits. */
const DEADLINE_MS = 2_000;

/**
 * The fleet's rollout election (etcd3's election recipe at ETCD_KEYS.election): every replica
 * and every `gateway rollout run` campaigns; the oldest live campaign leads. A candidate's key
 * is bound to its lease (TTL GATEWAY_FLEET_TTL_SECONDS), so a leader that dies or freezes is
 * replaced once the TTL runs out, and one that stops resigns: its key goes at once and the
 * next candidate leads. A lost campaign is started again, so a replica is always a candidate.
 */
export class RolloutElection {
  private campaign: Campaign | null = null;
  private leadership: Leadership | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly etcd: EtcdConnection,
    private readonly me: Candidate,
    private readonly ttlSeconds: number,
    private readonly events: ElectionEvents,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.closed || this.campaign !== null) return;
    const campaign = this.etcd.keys.election(ETCD_KEYS.election, this.ttlSeconds).campaign(JSON.stringify(this.me));
    this.campaign = campaign;
    campaign.on('elected', () => void this.won(campaign));
    campaign.on('error', (error: Error) => this.campaignFailed(campaign, error.message));
  }

  /** Whether `leadership` still holds, read from etcd now (a linearizable read: what any later write will be checked against). */
  async standing(leadership: Leadership): Promise<Standing> {
    let createRevision: string | undefined;
    try {
      const found = await this.etcd.client
        .get(leadership.key)
        .options({ deadline: Date.now() + DEADLINE_MS })
        .exec();
      createRevision = found.kvs[0]?.create_revision;
    } catch {
      return 'unreachable';
    }
    if (createRevision === leadership.createRevision) return 'leading';
    if (this.leadership === leadership && this.campaign)
      this.campaignFailed(this.campaign, 'its election key is gone: its lease ran out and another candidate leads');
    return 'deposed';
  }

  /** Who leads now (the oldest live campaign); null when nobody does. Throws when etcd does not answer. */
  async leader(): Promise<Candidate | null> {
    const values = await this.etcd.keys
      .namespace(`${Election.prefix}/${ETCD_KEYS.election}/`)
      .getAll()
      .sort('Create', 'Ascend')
      .limit(1)
      .options({ deadline: Date.now() + DEADLINE_MS })
      .strings();
    const value = Object.values(values)[0];
    if (value === undefined) return null;
    try {
      return JSON.parse(value) as Candidate;
    } catch {
      return { replica: value, adminUrl: null };
    }
  }

  /** Stops campaigning; a leader resigns, so the next candidate leads at once (bounded: with etcd away its lease runs out instead). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const campaign = this.campaign;
    this.campaign = null;
    this.leadership = null;
    if (!campaign) return;
    await Promise.race([campaign.resign().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, DEADLINE_MS).unref())]);
  }

  private async won(campaign: Campaign): Promise<void> {
    let leadership: Leadership;
    try {
      const key = await campaign.getCampaignKey();
      const found = await this.etcd.client
        .get(key)
        .options({ deadline: Date.now() + DEADLINE_MS })
        .exec();
      const createRevision = found.kvs[0]?.create_revision;
      if (createRevision === undefined) throw new Error('its election key is gone');
      leadership = { key, createRevision };
    } catch (error) {
      this.campaignFailed(campaign, `elected, but its key could not be read back: ${(error as Error).message}`);
      return;
    }
    if (campaign !== this.campaign) return;
    this.leadership = leadership;
    this.logger.info({ replica: this.me.replica, key: leadership.key }, `${this.me.replica} leads the fleet's rollouts`);
    this.events.elected(leadership);
  }

  /** The campaign is over (error, lost lease, deposed): a held leadership ends, and a new campaign starts shortly. */
  private campaignFailed(campaign: Campaign, why: string): void {
    if (campaign !== this.campaign) return;
    this.campaign = null;
    void campaign.resign().catch(() => undefined);
    const held = this.leadership;
    this.leadership = null;
    if (held) {
      this.logger.warn({ replica: this.me.replica, problem: why }, `${this.me.replica} no longer leads the rollouts: ${why}`);
      this.events.lost(why);
    } else this.logger.debug({ problem: why }, 'rollout election: campaign failed, trying again');
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.start();
    }, RETRY_MS);
    this.retry.unref();
  }
}
