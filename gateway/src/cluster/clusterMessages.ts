/** Whether `message`, received over the cluster channel, is one of ours of type `type` (node:cluster's own messages and others' are not). */
export const isMessage = <T extends { type: string }>(message: unknown, type: T['type']): message is T =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
