import { Command, CommanderError } from 'commander';
import { CliError, EXIT, type ExitCode } from './exitCodes.ts';
import type { CliContext } from './context.ts';
import { registerProposalCommands } from './commands/proposals.ts';
import { registerMissionCommands } from './commands/missions.ts';
import { registerEventCommands } from './commands/events.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerTriggerCommands } from './commands/triggers.ts';
import { registerReportCommands } from './commands/reports.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerBackupCommands } from './commands/backups.ts';

/** One module per command group registers its commands here; nothing else defines commands. */
const GROUPS = [
  registerProposalCommands,
  registerMissionCommands,
  registerEventCommands,
  registerPolicyCommands,
  registerTriggerCommands,
  registerReportCommands,
  registerDbCommands,
  registerBackupCommands,
];

export function createProgram(ctx: CliContext): Command {
  const program = new Command('opsloop')
    .description('Operate opsloop over its HTTP API (OPSLOOP_URL, OPS_API_TOKEN).')
    .option('--json', 'machine-readable JSON output')
    .option('--url <url>', 'API base URL (Default: $OPSLOOP_URL or http://127.0.0.1:3000)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) });
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 invalid input (server refused),
            6 unauthorised/forbidden, 7 server unreachable.`,
  );
  for (const register of GROUPS) register(program, ctx);
  // Subcommands inherit exitOverride and output routing only when set on each.
  const configure = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: (s) => ctx.io.out(s), writeErr: (s) => ctx.io.err(s) }).showHelpAfterError();
    c.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** Parses and runs one command line; returns the exit code instead of exiting. */
export async function run(argv: string[], ctx: CliContext): Promise<ExitCode> {
  const program = createProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      ctx.io.err(`opsloop: ${error.message}\n`);
      return error.code;
    }
    if (ctx.signal.aborted) return EXIT.ok;
    ctx.io.err(`opsloop: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.error;
  }
}
