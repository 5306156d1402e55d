export { run, createProgram } from './program.ts';
export { EXIT, CliError, type ExitCode } from './exitCodes.ts';
export type { CliContext } from './context.ts';
