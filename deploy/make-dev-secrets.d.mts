// Types of make-dev-secrets.mjs for the TypeScript tests that import it.
export declare const SECRET_FILES: readonly string[];
export declare function makeDevSecrets(dir: string, options?: { force?: boolean }): string[];
