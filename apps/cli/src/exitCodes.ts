/**
 * Exit codes scripts can rely on (README "CLI"). An HTTP answer maps to one code; anything
 * the CLI cannot classify is 1.
 */
export const EXIT = {
  ok: 0,
  /** Unexpected failure: a 5xx, a malformed answer, a bug. */
  error: 1,
  /** Bad command line: unknown command or option, missing argument, unreadable file, invalid JSON. */
  usage: 2,
  /** The proposal, mission, policy key, … does not exist (404). */
  notFound: 3,
  /** The change does not apply in the current state: not pending, already running, lease lost (409). */
  conflict: 4,
  /** The server refused the input (400, 413, 415): the message lists each wrong field. */
  invalid: 5,
  /** The token is missing, wrong, or may not do this (401, 403). */
  auth: 6,
  /** The server could not be reached (connection refused, DNS, timeout). */
  unreachable: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one clear message and exits with `code`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.invalid;
  return EXIT.error;
}
