import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs, type Command } from './command.ts';

/** The JSON Schema of routes.yaml, shipped with the gateway (the editors' view of the format). */
export const ROUTES_SCHEMA_FILE = fileURLToPath(new URL('../../schema/routes.schema.json', import.meta.url));

const HELP = `Usage: gateway schema [--path]

Prints the JSON Schema (draft 2020-12) of routes.yaml: every field with its description,
default and allowed values, for editors and other tools. An editor with the YAML language
server (VS Code's YAML extension, Neovim, JetBrains) uses it for completion, hover help and
red underlines when the file's first line is

  # yaml-language-server: $schema=./gateway/schema/routes.schema.json

(the path relative to the routes file), as the shipped routes.yaml has. The schema checks
the shape of each field; 'gateway validate' checks the whole plan (exactly one legacy
backend, shares that add up, routes hidden behind earlier ones, ...) and names file:line.

Options:
  --path   print where the schema file is instead of its contents`;

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of routes.yaml (for editors)',
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(args, HELP, { path: { type: 'boolean' } });
    if (values.help) return 0;
    process.stdout.write(values.path ? `${ROUTES_SCHEMA_FILE}\n` : await readFile(ROUTES_SCHEMA_FILE, 'utf8'));
    return 0;
  },
};
