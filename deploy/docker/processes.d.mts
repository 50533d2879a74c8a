// Types of processes.mjs for the TypeScript tests that import it.
export interface ProcessSpec {
  readonly entry: readonly string[];
  readonly portVariable: string;
  readonly defaultPort: number;
  readonly healthPath: string;
}
export declare const PROCESSES: {
  readonly gateway: ProcessSpec;
  readonly 'legacy-monolith': ProcessSpec;
  readonly users: ProcessSpec;
  readonly thoughts: ProcessSpec;
};
export declare function processFor(service: string | undefined): ProcessSpec;
export declare function healthUrl(service: string | undefined, env?: NodeJS.ProcessEnv): string;
