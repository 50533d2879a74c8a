/** Resolves with the first SIGTERM or SIGINT: how every long-running gateway command learns it should stop. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}
