#!/usr/bin/env node
// The `opsloop` command. Runs the TypeScript sources through tsx (as `npm start` does);
// a compiled build can point this file at dist/ instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
