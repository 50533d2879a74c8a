/**
 * What a replica says about itself at `fleet/replicas/<id>` (JSON, bound to its lease): who it
 * is, where to reach it, and which plan it serves — what `gateway fleet` compares with the
 * version the store holds.
 */
export interface ReplicaRecord {
  readonly id: string;
  /** Where operators and other replicas reach its admin port (GATEWAY_ADVERTISE_ADMIN_URL). */
  readonly adminUrl: string | null;
  readonly publicUrl: string;
  readonly hostname: string;
  readonly pid: number;
  /** ISO time the process started serving. */
  readonly startedAt: string;
  /** The plan it serves: its version (sha256 of the plan text) and since when (ISO). */
  readonly plan: { readonly version: string; readonly since: string };
  /** The last plan it refused (a plan valid in the store but not with this replica's settings), with the validation message. */
  readonly rejected: { readonly version: string; readonly message: string; readonly at: string } | null;
  /** Whether its connection to the plan store (the watch) is up. */
  readonly storeUp: boolean;
  /**
   * It is shutting down (SIGTERM/SIGINT): still serving, and still applying the store's plan,
   * until its drain ends. Plan changes and rollout steps do not wait for it. Absent in the
   * records of replicas older than this field: not draining.
   */
  readonly draining?: boolean;
}

/** A record as read back; null when the value is not one (written by something else). */
export function parseReplicaRecord(text: string): ReplicaRecord | null {
  try {
    const value = JSON.parse(text) as Partial<ReplicaRecord>;
    return typeof value.id === 'string' && typeof value.plan?.version === 'string' && typeof value.startedAt === 'string' ? (value as ReplicaRecord) : null;
  } catch {
    return null;
  }
}
